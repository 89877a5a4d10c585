import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `AsyncSink`: a sink whose writer awaits (here a stand-in for a transactional remote store,
/// ``Ledger``). Each record is published exactly once — checked record by record against the
/// failure-free output — through failures of its own calls (write, preCommit, commit, making
/// a writer), failures upstream, a stop and a cancel while a write is suspended; and a job
/// never completes with output uncommitted.
@Suite struct AsyncSinkTests {
    static let count = 3_000
    /// The failure-free output.
    static let expected = (0..<count).map { $0 * 3 }

    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func environment(_ faultTolerance: [String: ConfigValue], faults: ConfigValue = []) throws -> LocalEnvironment {
        var ft = faultTolerance
        if ft["strategy"] == .string("checkpoint") { ft["checkpoint_dir"] = .string(directory.path("chk")) }
        return try LocalEnvironment("async-sink", config: [
            "work_dir": .string(directory.path("work")), "batch_size": 16, "channel_capacity": 2,
            "fault_tolerance": .object(ft), "fault_injection": faults,
        ])
    }

    static let checkpointed: [String: ConfigValue] = ["strategy": "checkpoint", "checkpoint_interval": 0.001, "max_attempts": 2, "delay": 0]

    /// source → ×3 → ledger.
    func pipeline(_ env: LocalEnvironment, _ sink: LedgerSink, parallelism: Int = 1) {
        env.fromSource(GeneratorSource(count: Self.count) { $0 }).map { $0 * 3 }.named("triple").sink(sink).named("ledger").parallelism(parallelism)
    }

    @Test(.timeLimit(.minutes(3))) func withoutCheckpointsEachWriteIsFinalAndEveryWriterIsClosed() async throws {
        let ledger = Ledger()
        let env = try environment(["strategy": "restart", "max_attempts": 0])
        pipeline(env, LedgerSink(ledger), parallelism: 2)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(await ledger.published.sorted() == Self.expected)
        let calls = await ledger.calls
        #expect(calls.makeWriter == 2 && calls.close == 2, "one writer per instance, each closed: \(calls)")
        #expect(calls.preCommit == 0 && calls.commit == 0 && calls.recover == 0, "no two-phase commit without checkpoints: \(calls)")
        #expect(result[operator: "ledger"]?.recordsIn == Self.count)
    }

    /// Three checkpoint restores (two failures upstream, one of the sink caught by fault
    /// injection, none restarted in place): the store holds each record once, in order.
    @Test(.timeLimit(.minutes(3))) func underCheckpointsEachRecordIsPublishedOnceThroughRestores() async throws {
        let ledger = Ledger()
        let env = try environment(
            Self.checkpointed.merging(["max_attempts": 0]) { $1 },
            faults: [
                ["operator": "triple", "inject": "throw", "at_records": [700, 2_100]],
                ["operator": "ledger", "inject": "throw", "at_records": [1_500]],
            ])
        pipeline(env, LedgerSink(ledger))
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(await ledger.published == Self.expected)
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 3)
        let calls = await ledger.calls
        #expect(calls.recover == 4, "once at the start and once per restore: \(calls)")
        #expect(calls.preCommit >= 1 && calls.commit >= 1)
    }

    /// The store rejects a write: under `.restart` the writer is closed, a new one is made for
    /// the instance and the same batch written again; records the old writer staged in the
    /// open epoch are sealed with it.
    @Test(.timeLimit(.minutes(3))) func aWriteThatThrowsIsWrittenAgainByANewWriter() async throws {
        let ledger = Ledger(faults: .init(write: [5, 40]))
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(ledger))
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(await ledger.published == Self.expected)
        #expect(result.restarts.filter { $0.operatorName == "ledger" }.count == 2)
        #expect(result.recoveries.map(\.kind) == [.operatorRestart, .operatorRestart])
        let calls = await ledger.calls
        #expect(calls.makeWriter == 3 && calls.close == 3, "two restarts: each old writer closed, a new one made: \(calls)")
    }

    /// A seal that fails fails its checkpoint's barrier: the job restores the last completed
    /// checkpoint (recovering the store first) and goes on.
    @Test(.timeLimit(.minutes(3))) func aPreCommitThatThrowsRestoresTheLastCheckpoint() async throws {
        let ledger = Ledger(faults: .init(preCommit: [3]))
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(ledger))
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(await ledger.published == Self.expected)
        #expect(result.recoveries.contains { $0.kind == .checkpointRestore })
        #expect(await ledger.calls.recover == 2)
    }

    /// A commit that fails fails its checkpoint; a later commit publishes its epochs too.
    @Test(.timeLimit(.minutes(3))) func aCommitThatThrowsIsMadeGoodByALaterOne() async throws {
        let ledger = Ledger(faults: .init(commit: [1, 2]))
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(ledger))
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(result.failedCheckpoints == 2)
        #expect(await ledger.published == Self.expected)
    }

    /// When no commit goes through, the job does not report success: it fails, and the store
    /// shows nothing it was not told to publish.
    @Test(.timeLimit(.minutes(3))) func aJobWhoseCommitsKeepFailingDoesNotComplete() async throws {
        let ledger = Ledger(faults: .init(commitsFrom: 1))
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(ledger))
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.result.status == .failed)
        #expect(await ledger.published.isEmpty)
    }

    /// A writer that cannot be made is a failure of the sink that escalates: the job restores
    /// its last checkpoint and tries again; when that keeps failing the job fails, naming the
    /// sink and the store's error, with nothing published.
    @Test(.timeLimit(.minutes(3))) func aWriterThatCannotBeMadeEscalatesAndFailsTheJobWhenItKeepsFailing() async throws {
        let once = Ledger(faults: .init(makeWriter: [1]))
        let recovered = try environment(Self.checkpointed)
        pipeline(recovered, LedgerSink(once))
        let result = try await recovered.submit()
        #expect(result.recoveries.map(\.kind) == [.checkpointRestore])
        #expect(await once.published == Self.expected)

        let never = Ledger(faults: .init(makeWriter: Set(1...100)))
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(never))
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "ledger")
        let message = error.map { "\($0.cause.error)" } ?? ""
        #expect(message.contains("makeWriter #"), "the store's own error: \(message)")
        #expect(await never.published.isEmpty)
    }

    /// A stop while a write is suspended: the write finishes, a final checkpoint commits what
    /// went in, the job ends stopped; its resume publishes the rest, each record once.
    @Test(.timeLimit(.minutes(3))) func aStopDuringASuspendedWriteCommitsAndAResumeCompletes() async throws {
        let ledger = Ledger()
        let sink = LedgerSink(ledger, holdAt: 1_200 * 3)
        let env = try environment(Self.checkpointed)
        pipeline(env, sink)
        let first = Task { try await env.submit() }
        await sink.reached.wait()
        env.stop()
        sink.release.open()
        let stopped = try await first.value
        #expect(stopped.status == .stopped)
        let committed = await ledger.published
        #expect(committed == Array(Self.expected.prefix(committed.count)), "a prefix, each record once")
        #expect(committed.contains(1_200 * 3), "the suspended batch went in before the final checkpoint")
        let resumed = try await env.submit()
        #expect(resumed.status == .completed)
        #expect(await ledger.published == Self.expected)
    }

    /// A cancel while a write is suspended ends the wait (the task is cancelled): not a failure
    /// of the sink, nothing of the uncommitted epoch published; the resume publishes the rest.
    @Test(.timeLimit(.minutes(3))) func aCancelDuringASuspendedWriteLosesNothingAndIsNotAFailure() async throws {
        let ledger = Ledger()
        let sink = LedgerSink(ledger, holdAt: 1_200 * 3)
        let env = try environment(Self.checkpointed)
        pipeline(env, sink)
        let first = Task { try await env.submit() }
        await sink.reached.wait()
        env.cancel()
        let cancelled = try await first.value
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.restarts.isEmpty && cancelled.recoveries.isEmpty, "the cancelled wait is not a failure")
        let committed = await ledger.published
        #expect(!committed.contains(1_200 * 3))
        #expect(committed == Array(Self.expected.prefix(committed.count)))
        sink.release.open()
        let resumed = try await env.submit()
        #expect(resumed.status == .completed)
        #expect(await ledger.published == Self.expected)
    }

    /// A restart whose new writer cannot be made is a failed restart, retried under the same
    /// supervision; the records still reach the store once.
    @Test(.timeLimit(.minutes(3))) func aRestartWhoseWriterCannotBeMadeIsRetried() async throws {
        let ledger = Ledger(faults: .init(makeWriter: [2], write: [5]))
        let env = try environment(Self.checkpointed.merging(["max_attempts": 3]) { $1 })
        pipeline(env, LedgerSink(ledger))
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(await ledger.published == Self.expected)
        #expect(await ledger.calls.makeWriter == 3, "the start, the failed restart, the one that worked")
        #expect(result.recoveries.map(\.kind) == [.operatorRestart])
    }

    /// A `CancellationError` a store throws of its own, with nothing cancelled, is a failure of
    /// the sink like any other: restarted, not taken for a stop.
    @Test(.timeLimit(.minutes(3))) func aCancellationErrorWithoutACancelIsAFailure() async throws {
        let ledger = Ledger(faults: .init(cancellationErrorOnWrite: [7]))
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(ledger))
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(result.restarts.map(\.operatorName) == ["ledger"])
        #expect(await ledger.published == Self.expected)
    }

    /// Two sink instances under checkpoint restores: each record once.
    @Test(.timeLimit(.minutes(3))) func parallelInstancesUnderRestoresPublishEachRecordOnce() async throws {
        let ledger = Ledger()
        let env = try environment(
            Self.checkpointed.merging(["max_attempts": 0]) { $1 },
            faults: ["operator": "triple", "inject": "throw", "at_records": [900, 2_400]])
        pipeline(env, LedgerSink(ledger), parallelism: 2)
        let result = try await env.submit()
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 2)
        #expect(await ledger.published.sorted() == Self.expected)
    }

    /// A cancel while a seal, a close, a new writer or a commit waits on the store: the job ends
    /// cancelled (not failed, nothing escalated or restored), and its resume publishes each
    /// record once.
    @Test(.timeLimit(.minutes(3)), arguments: [Ledger.Hold.preCommit(call: 3), .close(call: 1), .makeWriter(call: 2), .commit(call: 2)])
    func aCancelWhileACallWaitsEndsTheJobCancelledAndTheResumeCompletesIt(hold: Ledger.Hold) async throws {
        // A restart (write #5 fails) makes the second writer.
        let ledger = Ledger(faults: .init(write: hold == .makeWriter(call: 2) ? [5] : []), hold: hold)
        let env = try environment(Self.checkpointed)
        pipeline(env, LedgerSink(ledger))
        let first = Task { try await env.submit() }
        await ledger.reached.wait()
        env.cancel()
        let cancelled = try await first.value
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.recoveries.isEmpty, "nothing restored: \(cancelled.recoveries.map(\.kind))")
        let events = JobFolder.parseEvents(
            try String(contentsOfFile: directory.path("work") + "/\(env.jobID)/events.jsonl", encoding: .utf8))
        #expect(!events.contains { $0.kind == .failureEscalated }, "the cancelled wait escalated nothing")
        let committed = await ledger.published
        #expect(committed == Array(Self.expected.prefix(committed.count)))
        ledger.release.open()
        let resumed = try await env.submit()
        #expect(resumed.status == .completed)
        #expect(await ledger.published == Self.expected)
    }
}
