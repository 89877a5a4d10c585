import Testing
@testable import Tributary
import TributaryTesting

@Suite struct TopologyTests {
    @Test func fanOutGivesEveryConsumerEveryRecord() async throws {
        let env = try LocalEnvironment("fan-out", config: ["batch_size": 8])
        let doubled = CollectSink<Int>()
        let all = CollectSink<Int>()
        let negatives = CollectSink<Int>()
        let numbers = env.fromCollection(Array(0..<500)).map { $0 + 1 }
        numbers.map { $0 * 2 }.sink(doubled)
        numbers.sink(all)
        numbers.map { -$0 }.parallelism(2).sink(negatives)
        let result = try await env.submit()
        #expect(doubled.values == (1...500).map { $0 * 2 })
        #expect(all.values == Array(1...500))
        #expect(negatives.values.sorted() == (1...500).map { -$0 }.sorted())
        #expect(result[operator: "map-1"]?.recordsOut == 500)
    }

    @Test func unionMergesStreamsKeepingEachInputsOrder() async throws {
        let env = try LocalEnvironment("union", config: ["batch_size": 5])
        let sink = CollectSink<String>()
        let letters = env.fromCollection((0..<100).map { "a\($0)" })
        let numbers = env.fromSource(GeneratorSource(count: 100) { "b\($0)" })
        let third = env.fromCollection((0..<50).map { "c\($0)" }).map { $0.uppercased() }
        letters.union(numbers, third).sink(sink)
        let result = try await env.submit()
        let values = sink.values
        #expect(values.count == 250)
        #expect(values.filter { $0.hasPrefix("a") } == (0..<100).map { "a\($0)" })
        #expect(values.filter { $0.hasPrefix("b") } == (0..<100).map { "b\($0)" })
        #expect(values.filter { $0.hasPrefix("C") } == (0..<50).map { "C\($0)" })
        #expect(result[operator: "union-4"]?.recordsIn == 250)
    }

    @Test func unionThenKeyedStateSeesAllInputs() async throws {
        let env = try LocalEnvironment("union-keyed")
        let sink = CollectSink<Int>()
        let evens = env.fromCollection(Array(stride(from: 0, to: 100, by: 2)))
        let odds = env.fromCollection(Array(stride(from: 1, to: 100, by: 2)))
        evens.union(odds)
            .keyBy { _ in "all" }
            .mapWithState(initial: 0) { (total: inout Int, value: Int) in
                total += value
                return total
            }
            .sink(sink)
        _ = try await env.submit()
        #expect(sink.values.count == 100)
        #expect(sink.values.last == (0..<100).reduce(0, +))
    }

    @Test func severalSourcesAndSinksInOneJob() async throws {
        let env = try LocalEnvironment("multi")
        let first = CollectSink<Int>()
        let second = CollectSink<String>()
        env.fromCollection([1, 2, 3]).sink(first).named("ints")
        env.fromCollection(["x", "y"]).sink(second).named("strings")
        let result = try await env.submit()
        #expect(first.values == [1, 2, 3])
        #expect(second.values == ["x", "y"])
        #expect(result[operator: "ints"]?.recordsIn == 3)
        #expect(result[operator: "strings"]?.recordsIn == 2)
    }

    @Test func fusionPutsForwardChainsInOneVertexAndSplitsAtKeyByFanOutAndParallelism() throws {
        let env = try LocalEnvironment("plan")
        let stream = env.fromCollection([1]).map { $0 }.filter { _ in true }
        stream.keyBy { $0 }.reduce(+).sink(CollectSink<Int>())
        stream.map { $0 }.parallelism(2).sink(CollectSink<Int>())
        let plan = try env.graph.withLock { graph throws(PipelineError) in try PhysicalPlan.compile(graph, cores: 2) }
        // source+map+filter | reduce+sink | map×2+sink×2? (the sink has parallelism 1: its own vertex)
        #expect(plan.vertices.map(\.nodes) == [[0, 1, 2], [3, 4], [5], [6]])
        #expect(plan.vertices.map(\.parallelism) == [1, 1, 2, 1])
        #expect(plan.vertices[2].laneCount == 1)
        #expect(plan.vertices[3].laneCount == 2, "a round-robin edge has one lane per upstream instance")
        // Each operator says where it runs and why.
        let placements = plan.nodes.map(\.placement)
        #expect(placements[0].hasPrefix("own instance: a source"))
        #expect(placements[1].hasPrefix("fused into 'source-0'"))
        #expect(placements[2].hasPrefix("fused into 'source-0'"))
        #expect(placements[3].contains("after keyBy (one instance, so batches are forwarded without hashing)"))
        #expect(placements[4].hasPrefix("fused into 'reduce-3'"))
        #expect(placements[5] == "own instance: its input 'filter-2' also feeds 1 other operator(s)")
        #expect(placements[6].contains("parallelism 1 differs from its input's 2"), "\(placements[6])")
    }

    /// A lone source chain uses a spare core: split before its middle operator, never on one
    /// core, and not when the plan already has an instance per core.
    @Test func aSourceChainIsSplitInTwoOnlyWhenACoreIsSpare() throws {
        func vertices(cores: Int, keyed: Bool = false) throws -> (nodes: [[Int]], placements: [String]) {
            let env = try LocalEnvironment("split")
            let stream = env.fromCollection([1]).map { $0 }.filter { _ in true }
            if keyed {
                stream.keyBy { $0 }.reduce(+).sink(CollectSink<Int>())
            } else {
                stream.sink(CollectSink<Int>())
            }
            let plan = try env.graph.withLock { graph throws(PipelineError) in try PhysicalPlan.compile(graph, cores: cores) }
            return (plan.vertices.map(\.nodes), plan.nodes.map(\.placement))
        }
        let one = try vertices(cores: 1)
        #expect(one.nodes == [[0, 1, 2, 3]])
        let two = try vertices(cores: 2)
        #expect(two.nodes == [[0, 1], [2, 3]])
        #expect(two.placements[2].hasPrefix("own instance: splits the chain of 'source-0' in two"), "\(two.placements[2])")
        #expect(two.placements[3].hasPrefix("fused into 'filter-2'"))
        // Source+map+filter and reduce+sink: already one instance per core.
        #expect(try vertices(cores: 2, keyed: true).nodes == [[0, 1, 2], [3, 4]])
        #expect(try vertices(cores: 3, keyed: true).nodes == [[0], [1, 2], [3, 4]])
    }

    /// `withTimestamps` notices idle inputs only where the source reads: a split never moves it
    /// out of the source's instance, on any number of cores.
    @Test func aSplitKeepsWithTimestampsInTheSourcesInstance() throws {
        func vertices(_ build: (DataStream<Int>) -> Void) throws -> [[Int]] {
            let env = try LocalEnvironment("split-timestamps")
            build(env.fromCollection([1]))
            let plan = try env.graph.withLock { graph throws(PipelineError) in try PhysicalPlan.compile(graph, cores: 8) }
            return plan.vertices.map(\.nodes)
        }
        let idle = WatermarkStrategy.monotonous(idleTimeout: .seconds(1))
        // source, map, timestamps: nothing after it to split off.
        #expect(try vertices { $0.map { $0 }.withTimestamps({ .seconds($0) }, watermarks: idle).sink(CollectSink<Int>()) } == [[0, 1, 2], [3]])
        #expect(try vertices { $0.map { $0 }.withTimestamps({ .seconds($0) }, watermarks: idle).map { $0 }.map { $0 }.sink(CollectSink<Int>()) } == [[0, 1, 2], [3, 4, 5]])
        #expect(try vertices { $0.withTimestamps({ .seconds($0) }, watermarks: idle).map { $0 }.map { $0 }.sink(CollectSink<Int>()) } == [[0, 1], [2, 3, 4]])
        let env = try LocalEnvironment("label")
        let node = env.fromCollection([1]).withTimestamps({ .seconds($0) }, watermarks: idle)
        #expect(env.graph.withLock { PhysicalPlan.sourceInstanceLabels.contains($0.nodes[node.nodeID].blueprint.label) })
    }

    /// The same job, split or not, gives the same output record by record.
    @Test func aSplitChainGivesTheFusedChainsOutput() async throws {
        let records = Array(0..<20_000)
        let env = try LocalEnvironment("split-output", config: ["batch_size": 64])
        let sink = CollectSink<String>()
        env.fromCollection(records).map { $0 * 3 }.filter { $0 % 2 == 0 }.map { "\($0)" }.sink(sink)
        let plan = try env.graph.withLock { graph throws(PipelineError) in try PhysicalPlan.compile(graph) }
        let result = try await env.submit()
        #expect(sink.values == records.map { $0 * 3 }.filter { $0 % 2 == 0 }.map { "\($0)" })
        #expect(result[operator: "filter-2"]?.recordsIn == records.count)
        if AvailableCores.count >= 2 { #expect(plan.vertices.count == 2) }
    }

    @Test func cpuListsAreCounted() {
        #expect(AvailableCores.cpuCount(list: "0-1") == 2)
        #expect(AvailableCores.cpuCount(list: " 0 ") == 1)
        #expect(AvailableCores.cpuCount(list: "0-3,8,10-11\n") == 7)
        #expect(AvailableCores.cpuCount(list: "") == nil)
        #expect(AvailableCores.cpuCount(list: "3-1") == nil)
        #expect(AvailableCores.cpuCount(list: "x") == nil)
        #expect(AvailableCores.cpuQuota(v2: "max 100000\n") == nil)
        #expect(AvailableCores.cpuQuota(v2: "-1 100000") == nil)
        #expect(AvailableCores.cpuQuota(v2: "150000 100000\n") == 2)
        #expect(AvailableCores.cpuQuota(v2: "100000 100000") == 1)
        #expect(AvailableCores.cpuQuota(v2: "garbage") == nil)
    }

    @Test func aFanOutKeepsEachConsumerApartAndSaysSo() throws {
        let env = try LocalEnvironment("fan-out")
        let stream = env.fromCollection([1]).map { $0 }.named("shared")
        stream.sink(CollectSink<Int>()).named("a")
        stream.sink(CollectSink<Int>()).named("b")
        let plan = try env.graph.withLock { graph throws(PipelineError) in try PhysicalPlan.compile(graph, cores: 2) }
        let byName = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.name, $0.placement) })
        #expect(byName["a"] == "own instance: its input 'shared' also feeds 1 other operator(s)")
        #expect(byName["b"] == "own instance: its input 'shared' also feeds 1 other operator(s)")
    }

    @Test func defaultNamesAreStableAndNamedOverridesThem() throws {
        let env = try LocalEnvironment("names")
        let source = env.fromCollection([1])
        let mapped = source.map { $0 }
        let filtered = mapped.filter { _ in true }.named("only-some")
        #expect(source.name == "source-0")
        #expect(mapped.name == "map-1")
        #expect(filtered.name == "only-some")
        #expect(filtered.sink(CollectSink<Int>()).name == "sink-3")
    }

    /// An operator with two instances feeding two consumers with two instances each: every
    /// edge is a forward edge between vertices. Watermarks, barriers and the end of input went
    /// to every consumer instance on the same lane, two producers on one lane (a crash); now
    /// each goes only where the records go. Checkpoints and a restore run over those edges.
    @Test func forwardEdgesOfAFanOutCarryControlOnlyToTheirOwnInstance() async throws {
        let directory = try TemporaryDirectory()
        func run(_ name: String, failures: FailureInjector<Int>?) async throws -> (left: [Int], right: [Int]) {
            let env = try LocalEnvironment("fan-out-forward", config: [
                "job_id": .string(name), "work_dir": .string(directory.path("work")), "batch_size": 8,
                "fault_tolerance": [
                    "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk-\(name)")),
                    "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
                ],
            ])
            let sums = env.fromSource(GeneratorSource(count: 3_000) { $0 }).withTimestamps({ .milliseconds($0) }, watermarks: .monotonous())
                .keyBy { $0 % 7 }.reduce(+).named("sums").parallelism(2)
            let left = CollectSink<Int>()
            let right = CollectSink<Int>()
            sums.map { $0 * 2 }.named("left").parallelism(2).sink(left)
            sums.map { sum -> Int in
                try failures?.check(sum)
                return sum
            }.named("right").parallelism(2).supervised(.restoreCheckpoint).sink(right)
            #expect(try await env.submit().status == .completed)
            return (left.values.sorted(), right.values.sorted())
        }
        let reference = try await run("reference", failures: nil)
        #expect(reference.left.count == 3_000 && reference.right.count == 3_000)
        let failures = FailureInjector(failOn: [reference.right[100], reference.right[2_000]])
        let faulty = try await run("faulty", failures: failures)
        #expect(failures.thrownCount == 2)
        #expect(faulty.left == reference.left)
        #expect(faulty.right == reference.right)
    }
}
