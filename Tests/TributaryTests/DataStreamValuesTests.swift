import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `stream.values`: a pipeline's output as an AsyncSequence for the rest of an app — every
/// record once (also across checkpoint restores), with backpressure, ending with the run.
@Suite struct DataStreamValuesTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func environment(_ faultTolerance: [String: ConfigValue] = [:], faults: ConfigValue = []) throws -> LocalEnvironment {
        try LocalEnvironment("values", config: [
            "work_dir": .string(directory.path("work")), "batch_size": 8, "channel_capacity": 2,
            "fault_tolerance": .object(faultTolerance), "fault_injection": faults,
        ])
    }

    /// Collects the values while the job runs; returns them and the job's result.
    func collect<Element: Sendable>(_ values: DataStreamValues<Element>, _ env: LocalEnvironment) async throws -> ([Element], JobResult) {
        async let result = env.submit()
        var seen: [Element] = []
        for try await value in values { seen.append(value) }
        return (seen, try await result)
    }

    @Test(.timeLimit(.minutes(3))) func theRecordsReachTheAppInOrderAndTheIterationEndsWithTheJob() async throws {
        let env = try environment()
        let values = env.fromSource(GeneratorSource(count: 2_000) { $0 }).map { $0 * 2 }.values
        let (seen, result) = try await collect(values, env)
        #expect(seen == (0..<2_000).map { $0 * 2 })
        #expect(result.status == .completed)
    }

    /// While the app does not take records, the job waits: at a few points the app stops until
    /// the job's writer waits for it (or the job ran out of input), then checks that the
    /// operators ran no further than the buffer plus the batches in flight ahead of it.
    @Test(.timeLimit(.minutes(3))) func aSlowAppHoldsTheJobBack() async throws {
        let env = try environment()
        let mapped = Counter()
        let values = env.fromSource(GeneratorSource(count: 400) { $0 })
            .map { value -> Int in
                mapped.increment()
                return value
            }
            .values(bufferCapacity: 4)
        async let result = env.submit()
        var taken = 0
        var ahead: [Int] = []
        for try await _ in values {
            taken += 1
            if [1, 50, 200].contains(taken) {
                while values.channel.waitingWriters == 0, mapped.current < 400 { await Task.yield() }
                ahead.append(mapped.current - taken)
            }
        }
        #expect(taken == 400)
        #expect(ahead.count == 3)
        #expect(ahead.allSatisfy { $0 <= 4 + 3 * 8 }, "at most the buffer and three batches ahead of the app: \(ahead)")
        #expect(try await result.status == .completed)
    }

    /// Under checkpoints, with two checkpoint restores, the app sees every record once and in
    /// order: records are released when their checkpoint completes, never before.
    @Test(.timeLimit(.minutes(3))) func underCheckpointRestoresEachRecordArrivesOnce() async throws {
        let env = try environment(
            ["strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk")), "max_attempts": 0, "delay": 0],
            faults: ["operator": "double", "inject": "throw", "at_records": [300, 1_200]])
        let values = env.fromSource(GeneratorSource(count: 2_000) { $0 }).map { $0 * 2 }.named("double").values
        let (seen, result) = try await collect(values, env)
        #expect(seen == (0..<2_000).map { $0 * 2 })
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 2)
    }

    /// Also a loop begun after the job failed ends with its error rather than waiting.
    @Test(.timeLimit(.minutes(3))) func aFailedJobEndsTheIterationWithItsError() async throws {
        let env = try environment(["strategy": "none"])
        let values = env.fromCollection(Array(0..<100)).map { value -> Int in
            if value == 50 { throw InjectedError("fifty") }
            return value
        }.values
        let job = Task { try await env.submit() }
        var seen: [Int] = []
        await #expect(throws: JobFailedError.self) {
            for try await value in values { seen.append(value) }
        }
        #expect(seen.count <= 50)
        await #expect(throws: JobFailedError.self) { try await job.value }
        await #expect(throws: JobFailedError.self) {
            for try await _ in values {}
        }
    }

    /// A cancel ends the iteration after what was released; the job resumed in the same
    /// environment is iterated anew and, with its checkpoints, the two iterations together
    /// see every record once.
    @Test(.timeLimit(.minutes(3))) func aCancelEndsTheIterationAndAResumeIsIteratedAnew() async throws {
        // Manual checkpoints only: checkpoint 1 covers records 0..<400; then records up to the
        // batch of 700 are staged (processed by the sink, uncommitted) when the cancel comes.
        let env = try environment(["strategy": "checkpoint", "checkpoint_mode": "manual", "checkpoint_interval": 0, "checkpoint_dir": .string(directory.path("chk"))])
        let source = HoldingSource(count: 1_000, holdAt: 400, blocking: false)
        let atSevenHundred = Gate()
        let stall = CancellableGate()
        let values = env.fromSource(source)
            .mapAsync(maxConcurrency: 1) { value -> Int in
                if value == 700, !stall.isOpen {
                    atSevenHundred.open()
                    try await stall.wait()
                }
                return value
            }
            .values
        // Begun before the run, the iteration follows this run (one begun after its end would
        // follow the next).
        var iterator = values.makeAsyncIterator()
        let first = Task { try await env.submit() }
        await source.reached.wait()
        try await env.triggerCheckpoint()
        source.release.open()
        await atSevenHundred.wait()
        env.cancel()
        var seen: [Int] = []
        while let value = try await iterator.next() { seen.append(value) }
        #expect(try await first.value.status == .cancelled)
        #expect(seen == Array(0..<400), "what checkpoint 1 committed, and nothing the cancel left uncommitted")
        stall.open()
        let (rest, second) = try await collect(values, env)
        #expect(second.status == .completed)
        #expect(seen + rest == Array(0..<1_000), "every record once")
    }

    @Test func aBufferWithoutRoomIsRejected() async throws {
        let env = try environment()
        _ = env.fromCollection([1]).values(bufferCapacity: 0)
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.message.contains("values(bufferCapacity: 0)") == true)
    }

    /// An iteration begun after the job completed takes what is left and ends (the job will not
    /// run again: a second `submit()` throws).
    @Test(.timeLimit(.minutes(3))) func anIterationBegunAfterTheJobCompletedTakesWhatIsLeftAndEnds() async throws {
        let env = try environment()
        let values = env.fromCollection(Array(0..<10)).values
        #expect(try await env.submit().status == .completed)
        var seen: [Int] = []
        for try await value in values { seen.append(value) }
        #expect(seen == Array(0..<10))
        var again: [Int] = []
        for try await value in values { again.append(value) }
        #expect(again.isEmpty, "taken once")
    }

    /// Leaving a loop early loses nothing: the next loop goes on with the next record. Reading
    /// `values` again gives the same sequence (one sink in the graph).
    @Test(.timeLimit(.minutes(3))) func aLoopLeftEarlyLosesNothingAndValuesIsOneSink() async throws {
        let env = try environment()
        let stream = env.fromSource(GeneratorSource(count: 1_000) { $0 })
        let values = stream.values
        let same = stream.values
        #expect(env.graph.withLock { graph in graph.nodes.filter { $0.blueprint.label == "values" }.count } == 1)
        let job = Task { try await env.submit() }
        var first: [Int] = []
        for try await value in values {
            first.append(value)
            if first.count == 3 { break }
        }
        var rest: [Int] = []
        for try await value in same { rest.append(value) }
        #expect(first + rest == Array(0..<1_000))
        #expect(try await job.value.status == .completed)
    }
}
