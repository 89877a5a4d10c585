/// Makes a ``TortureCase`` from a seed: the same seed gives the same pipeline and faults.
public enum TortureGenerator {
    /// - Parameters:
    ///   - childProcess: allow the interruptions that need a child process (SIGKILL,
    ///     `crash_process`); such plans use file sinks only, as only files outlive a process.
    ///   - forceChildProcess: always choose one of them (`--kill` on the command line).
    public static func make(seed: UInt64, size: TortureSize = .test, childProcess: Bool = false, forceChildProcess: Bool = false)
        -> TortureCase
    {
        var random = TortureRandom(seed: seed)
        let drawn = random.chance(0.2)
        let kill = forceChildProcess || (childProcess && drawn)

        // Sources.
        let sourceCount = random.int(1...3)
        let sources = (0..<sourceCount).map { index in
            TorturePipeline.SourceSpec(
                kind: [.generator, .collection, .file].randomElement(using: &random)!,
                count: random.int(size.records), keys: random.int(1...12), index: index)
        }
        let total = sources.map(\.count).reduce(0, +)

        // Operators. `flow` estimates how many records reach a stage, for fault positions.
        var flow = Double(total)
        var usedFlatMap = false
        func stages(_ count: Int, prefix: String) -> [TorturePipeline.Stage] {
            (0..<count).map { index in
                var operation: TorturePipeline.Operation
                switch random.int(0...9) {
                case 0, 1: operation = .map(multiplier: [1, 3, 5, 7].randomElement(using: &random)!, offset: random.int(-50...50))
                case 2: operation = .filter(modulus: random.int(2...5), remainder: random.int(0...1))
                case 3 where !usedFlatMap: operation = .flatMap(copies: random.int(1...3))
                case 3, 4, 5: operation = .reduce(parallelism: random.int(1...4))
                case 6: operation = .mapWithState(parallelism: random.int(1...4))
                case 7: operation = .process(parallelism: random.int(1...4))
                default: operation = .counter
                }
                switch operation {
                case .filter(let modulus, _): flow *= Double(modulus - 1) / Double(modulus)
                case .flatMap(let copies):
                    usedFlatMap = true
                    flow *= Double(copies)
                default: break
                }
                let label: String
                switch operation {
                case .map: label = "map"
                case .filter: label = "filter"
                case .flatMap: label = "flatMap"
                case .reduce: label = "reduce"
                case .mapWithState: label = "state"
                case .process: label = "process"
                case .counter: label = "counter"
                }
                return TorturePipeline.Stage(name: "\(prefix)\(index)-\(label)", operation: operation, policy: nil)
            }
        }
        let prefix = stages(random.int(0...2), prefix: "p")
        let branchCount = random.int(1...2)
        var branches: [TorturePipeline.Branch] = []
        let prefixFlow = flow
        for branch in 0..<branchCount {
            flow = prefixFlow
            let chain = stages(random.int(branch == 0 && prefix.isEmpty ? 1...3 : 0...3), prefix: "b\(branch)-")
            var kinds: [TorturePipeline.SinkKind]
            // File or async file by the seed, not by a draw: a seed's plan stays what it was
            // before the async kind existed, but for the kind of its file sinks.
            let file: TorturePipeline.SinkKind = (seed &+ UInt64(branch)) % 2 == 1 ? .asyncFile : .file
            if kill {
                kinds = [file]
            } else {
                switch random.int(0...3) {
                case 0: kinds = [file]
                case 1: kinds = [.collect, file]
                default: kinds = [.collect]
                }
            }
            let sinks = kinds.map { kind in
                TorturePipeline.SinkSpec(
                    name: "b\(branch)-\(kind.rawValue)", kind: kind, failingCommits: random.chance(0.2) ? random.int(1...2) : 0, policy: nil)
            }
            branches.append(TorturePipeline.Branch(stages: chain, sinks: sinks))
        }
        // At most two failing commits in all: a commit that throws stops the checkpoint's other
        // sinks' commits, so failures of several sinks can line up one after the other, and a
        // final checkpoint that fails three times fails the job (as it must).
        var commitFailures = 0
        for branch in branches.indices {
            for sink in branches[branch].sinks.indices {
                let failures = min(branches[branch].sinks[sink].failingCommits, 2 - commitFailures)
                branches[branch].sinks[sink].failingCommits = failures
                commitFailures += failures
            }
        }
        var pipeline = TorturePipeline(sources: sources, prefix: prefix, branches: branches)

        // Faults.
        var faults = TortureFaultPlan()
        faults.batchSize = [1, 4, 16, 64].randomElement(using: &random)!
        faults.defaultMaxAttempts = random.int(0...3)
        faults.checkpointInterval = [0.001, 0.002, 0.005, 0.02].randomElement(using: &random)!
        if random.chance(0.15) { faults.checkpointTimeout = [0.002, 0.01, 0.05].randomElement(using: &random)! }
        if random.chance(0.3) { faults.manualCheckpoints = random.int(1...3) }
        let targets = pipeline.stages.map(\.name) + pipeline.sinks.map(\.name)
        let reach = max(1, Int(prefixFlow.rounded()))
        for _ in 0..<random.int(0...3) {
            let kind = random.chance(0.1) ? "hang" : "throw"
            let positions = (0..<random.int(1...2)).map { _ in random.int(0...reach) }
            faults.injections.append(.init(operatorName: targets.randomElement(using: &random)!, kind: kind, atRecords: positions))
        }
        let closureStages = pipeline.stages.map(\.name)
        if !closureStages.isEmpty {
            for _ in 0..<random.int(0...2) {
                let origins = (0..<random.int(1...3)).map { _ -> Int in
                    let source = sources.randomElement(using: &random)!
                    return source.record(random.int(0...(source.count - 1))).origin
                }
                faults.closureFaults.append(.init(stageName: closureStages.randomElement(using: &random)!, origins: origins, times: random.int(1...3)))
            }
        }
        func policy() -> TorturePipeline.Policy? {
            guard random.chance(0.35) else { return nil }
            switch random.int(0...2) {
            case 0: return .restart(maxAttempts: random.int(0...3))
            case 1: return .escalate
            default: return .restoreCheckpoint
            }
        }
        for index in pipeline.prefix.indices { pipeline.prefix[index].policy = policy() }
        for branch in pipeline.branches.indices {
            for index in pipeline.branches[branch].stages.indices { pipeline.branches[branch].stages[index].policy = policy() }
            for index in pipeline.branches[branch].sinks.indices { pipeline.branches[branch].sinks[index].policy = policy() }
        }

        // How the run is interrupted.
        if kill {
            if random.chance(0.5) {
                faults.interruption = .kill(afterCheckpoints: random.int(1...4), kills: random.int(1...2))
            } else {
                let stage = pipeline.stages.first ?? pipeline.branches[0].stages[0]
                faults.interruption = .crashProcess(operatorName: stage.name, atRecord: random.int(0...reach / 8))
            }
        } else if random.chance(0.06) {
            // Designed to fail: the first operator sees every record and stops the job on its
            // first failure. The record fails every time: a failure that arrives while a
            // recovery is under way joins that recovery (even under `.stop`), and the retry
            // after it must fail again.
            pipeline.prefix.insert(TorturePipeline.Stage(name: "p-guard", operation: .map(multiplier: 1, offset: 0), policy: .stop), at: 0)
            let source = sources.randomElement(using: &random)!
            faults.closureFaults.append(.init(stageName: pipeline.prefix[0].name, origins: [source.record(random.int(0...(source.count - 1))).origin], times: Int.max))
            faults.expectsFailure = true
        } else {
            switch random.int(0...4) {
            case 0: faults.interruption = .cancel(afterCheckpoints: random.int(1...5))
            case 1: faults.interruption = .stop(afterCheckpoints: random.int(1...5))
            default: faults.interruption = .none
            }
        }
        return TortureCase(seed: seed, pipeline: pipeline, faults: faults, size: size)
    }
}
