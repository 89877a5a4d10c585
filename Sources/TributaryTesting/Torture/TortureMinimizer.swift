/// Shrinks a failing case: drops faults, interruptions, stages, sinks, branches and sources and
/// halves record counts, one at a time, keeping each change after which the case still fails
/// (in any of `tries` runs, as failures may depend on timing), until no change does.
public struct TortureMinimizer: Sendable {
    public var runner: TortureRunner
    public var tries: Int

    public init(runner: TortureRunner, tries: Int = 3) {
        self.runner = runner
        self.tries = tries
    }

    /// The smallest failing case found, and its outcome; `progress` is told of each step kept.
    public func minimize(_ testCase: TortureCase, progress: (String) -> Void = { _ in }) async -> TortureOutcome? {
        var current = testCase
        guard var failing = await fails(current) else { return nil }
        var changed = true
        while changed {
            changed = false
            for (label, candidate) in Self.candidates(current) {
                if let outcome = await fails(candidate) {
                    progress("kept: \(label)")
                    current = candidate
                    failing = outcome
                    changed = true
                    break
                }
            }
        }
        return failing
    }

    func fails(_ testCase: TortureCase) async -> TortureOutcome? {
        for _ in 0..<tries {
            let outcome = await runner.run(testCase)
            if !outcome.passed { return outcome }
        }
        return nil
    }

    static func candidates(_ c: TortureCase) -> [(String, TortureCase)] {
        var result: [(String, TortureCase)] = []
        func add(_ label: String, _ change: (inout TortureCase) -> Void) {
            var copy = c
            change(&copy)
            result.append((label, copy))
        }
        let f = c.faults, p = c.pipeline
        if f.interruption != .none, !f.interruption.needsChildProcess { add("no interruption") { $0.faults.interruption = .none } }
        if f.manualCheckpoints > 0 { add("no manual checkpoints") { $0.faults.manualCheckpoints = 0 } }
        if f.checkpointTimeout != 600 { add("checkpoint_timeout 600") { $0.faults.checkpointTimeout = 600 } }
        for index in f.injections.indices.reversed() { add("drop injection \(index)") { $0.faults.injections.remove(at: index) } }
        for index in f.closureFaults.indices.reversed() { add("drop closure fault \(index)") { $0.faults.closureFaults.remove(at: index) } }
        for (b, branch) in p.branches.enumerated() {
            for (s, sink) in branch.sinks.enumerated() {
                if sink.failingCommits > 0 { add("commits of \(sink.name) succeed") { $0.pipeline.branches[b].sinks[s].failingCommits = 0 } }
                if sink.policy != nil { add("default policy for \(sink.name)") { $0.pipeline.branches[b].sinks[s].policy = nil } }
                if branch.sinks.count > 1 { add("drop sink \(sink.name)") { $0.pipeline.branches[b].sinks.remove(at: s) } }
            }
            for (s, stage) in branch.stages.enumerated() {
                if stage.policy != nil { add("default policy for \(stage.name)") { $0.pipeline.branches[b].stages[s].policy = nil } }
                add("drop stage \(stage.name)") { $0.pipeline.branches[b].stages.remove(at: s) }
            }
            if p.branches.count > 1 { add("drop branch \(b)") { $0.pipeline.branches.remove(at: b) } }
        }
        for (s, stage) in p.prefix.enumerated() {
            if stage.policy != nil, stage.policy != .stop { add("default policy for \(stage.name)") { $0.pipeline.prefix[s].policy = nil } }
            add("drop stage \(stage.name)") { $0.pipeline.prefix.remove(at: s) }
        }
        if f.defaultMaxAttempts > 0 { add("max_attempts 0") { $0.faults.defaultMaxAttempts = 0 } }
        for (index, source) in p.sources.enumerated() {
            if p.sources.count > 1 { add("drop source \(source.name)") { $0.pipeline.sources.remove(at: index) } }
            if source.count > 20 { add("halve \(source.name)") { $0.pipeline.sources[index].count = source.count / 2 } }
            if source.kind != .generator { add("\(source.name) as a generator") { $0.pipeline.sources[index].kind = .generator } }
        }
        return result
    }
}
