import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// The paths between the happy ones: a stop, a cancel, a second owner or a changed pipeline
/// while a checkpoint is pending, and what each must never do.
@Suite struct StopAndOwnershipTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(jobID: String, interval: Double = 3600, _ extra: [String: ConfigValue] = [:]) -> [String: ConfigValue] {
        var ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_interval": .double(interval), "checkpoint_dir": .string(directory.path("chk")),
            "delay": 0,
        ]
        for (key, value) in extra { ft[key] = value }
        return ["job_id": .string(jobID), "work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(ft)]
    }

    func lines(_ path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// A cancel while a checkpoint waits for a source that cannot inject its barrier: the
    /// checkpoint is abandoned (its waiter is told), nothing is committed for it, and the
    /// resume reads every record exactly once. Before the second design the source's "finished"
    /// report completed the checkpoint without its position, sinks committed, and the resume
    /// read the source from the start (the first 100 records twice).
    @Test func aCancelWhileACheckpointWaitsOnASourceNeverCompletesIt() async throws {
        let output = directory.path("out.txt")
        let first = try LocalEnvironment("slow", config: config(jobID: "slow"))
        let source = HoldingSource(count: 300, holdAt: 100, blocking: true)
        first.fromSource(source).named("numbers").map { $0 * 10 }.named("times10").sink(FileSink(path: output)).named("out")
        let job = Task { try await first.submit() }
        await source.reached.wait()
        let pending = Task { try await first.triggerCheckpoint() }
        // The checkpoint has started (the sink may already have acknowledged it) and cannot
        // complete while the source holds.
        first.cancel()
        let result = try await job.value
        #expect(result.status == .cancelled)
        let outcome = await pending.result
        #expect(throws: CheckpointError.self) { try outcome.get() }
        #expect(result.checkpoints.isEmpty, "no checkpoint completed")
        #expect(try lines(output).isEmpty, "nothing was committed")

        let second = try LocalEnvironment("slow", config: config(jobID: "slow"))
        second.fromSource(HoldingSource(count: 300, holdAt: 300, blocking: true)).named("numbers").map { $0 * 10 }.named("times10")
            .sink(FileSink(path: output)).named("out")
        let resumed = try await second.submit()
        #expect(resumed.status == .completed)
        #expect(try lines(output) == (0..<300).map { String($0 * 10) })
    }

    /// stop(): the sources stop where they are, everything read is committed by a final
    /// checkpoint, the job ends .stopped, and a resume goes on exactly after the last record.
    @Test func stopTakesAFinalCheckpointAndTheResumeGoesOnWhereItStopped() async throws {
        let output = directory.path("stop.txt")
        let first = try LocalEnvironment("stop", config: config(jobID: "stop"))
        let source = HoldingSource(count: 500, holdAt: 120, blocking: false)
        first.fromSource(source).named("numbers").keyBy { $0 % 3 }.reduce(+).named("sums").sink(FileSink(path: output)).named("out")
        let job = Task { try await first.submit() }
        await source.reached.wait()
        first.stop()
        let result = try await job.value
        #expect(result.status == .stopped)
        #expect(!result.checkpoints.isEmpty)
        var sums = [0, 0, 0]
        let expected = (0..<500).map { value -> String in
            sums[value % 3] += value
            return String(sums[value % 3])
        }
        #expect(try lines(output) == Array(expected.prefix(120)), "everything read before the stop is committed")
        let summary = try JobFolder.summary(jobID: "stop", workDirectory: directory.path("work"))
        #expect(summary.status == "stopped")

        let second = try LocalEnvironment("stop", config: config(jobID: "stop"))
        second.fromSource(HoldingSource(count: 500, holdAt: 500, blocking: false)).named("numbers").keyBy { $0 % 3 }.reduce(+).named("sums")
            .sink(FileSink(path: output)).named("out")
        let resumed = try await second.submit()
        #expect(resumed.status == .completed)
        #expect(try lines(output) == expected, "the keyed state and the position resumed exactly")
    }

    /// stop() while a checkpoint is pending on a source that cannot inject its barrier: the
    /// source's wait is cancelled by nothing, so the stop waits for it; once it delivers, the
    /// final checkpoint holds its position.
    @Test func stopWhileACheckpointIsPendingStillCommitsEverything() async throws {
        let output = directory.path("pending.txt")
        let env = try LocalEnvironment("pending", config: config(jobID: "pending"))
        let source = HoldingSource(count: 200, holdAt: 50, blocking: true)
        env.fromSource(source).named("numbers").sink(FileSink(path: output)).named("out")
        let job = Task { try await env.submit() }
        await source.reached.wait()
        let pending = Task { try await env.triggerCheckpoint() }
        env.stop()
        source.release.open()
        let result = try await job.value
        #expect(result.status == .stopped)
        let committed = try lines(output)
        #expect(committed == (0..<committed.count).map(String.init), "a prefix, in order, no duplicates")
        #expect(committed.count >= 50)
        _ = await pending.result
    }

    /// A failed final checkpoint must fail the job even though an earlier one succeeded: the
    /// coordinator used to answer the final checkpoint's waiter with the last completed one.
    @Test func aFinalCheckpointThatKeepsFailingFailsTheJobAfterAnEarlierSuccess() async throws {
        let env = try LocalEnvironment("final", config: config(jobID: "final"))
        let sink = CommitCountingSink(failFromCommit: 2)
        let source = HoldingSource(count: 100, holdAt: 40, blocking: false)
        env.fromSource(source).named("numbers").sink(sink).named("out")
        let job = Task { try await env.submit() }
        await source.reached.wait()
        let manual = try await env.triggerCheckpoint()
        #expect(manual.manual)
        source.release.open()
        let error = await #expect(throws: JobFailedError.self) { try await job.value }
        let cause = error.map { "\($0.cause.error)" } ?? ""
        #expect(cause.contains("final checkpoint failed 3 times"))
        #expect(sink.inner.values == Array(0..<40), "only the first checkpoint's output was committed")
    }

    /// A manual trigger while a periodic checkpoint is collecting gets that checkpoint, made
    /// manual (so retained_checkpoints never prunes it).
    @Test func aManualTriggerDuringAPeriodicCheckpointMakesItManual() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("join", config: config(jobID: "join", interval: 1, ["retained_checkpoints": 1]), clock: clock)
        let source = HoldingSource(count: 100, holdAt: 30, blocking: true)
        let sink = CollectSink<Int>()
        env.fromSource(source).named("numbers").sink(sink).named("out")
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        await source.reached.wait()
        clock.advance(by: await clock.nextSleep())
        let started = await recorder.wait(for: .checkpointStart)
        let manual = Task { try await env.triggerCheckpoint() }
        // Let the source deliver its barrier only once the trigger has joined.
        while recorder.events(.checkpointStart).count < 1 { await Task.yield() }
        await Task.yield()
        source.release.open()
        let record = try await manual.value
        #expect(record.id == Int64(started.attempt ?? -1))
        #expect(record.manual)
        _ = try await job.value
        recording.cancel()
        let entries = CheckpointCatalog.entries(jobID: "join", checkpointDirectory: directory.path("chk"))
        #expect(entries.contains { $0.id == record.id && $0.manual })
    }

    /// One process owns a job: a second submit of the same job_id while the first runs fails
    /// at once, naming the holder's pid, and touches nothing of the running job.
    @Test func aSecondOwnerOfARunningJobFailsAtOnceNamingTheHolder() async throws {
        let output = directory.path("owned.txt")
        let first = try LocalEnvironment("owned", config: config(jobID: "owned"))
        let source = HoldingSource(count: 100, holdAt: 10, blocking: false)
        first.fromSource(source).named("numbers").sink(FileSink(path: output)).named("out")
        let job = Task { try await first.submit() }
        await source.reached.wait()

        let second = try LocalEnvironment("owned", config: config(jobID: "owned"))
        second.fromSource(CollectionSource([1, 2, 3])).named("numbers").sink(FileSink(path: output)).named("out")
        let error = await #expect(throws: JobLockedError.self) { try await second.submit() }
        #expect(error?.holderPID == getpid())
        #expect(error?.description.contains("already running in process \(getpid())") == true)

        source.release.open()
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(try lines(output) == (0..<100).map(String.init))
        let live = JobFolder.liveness(jobID: "owned", workDirectory: directory.path("work"))
        #expect(live == .ended("completed"))
    }

    @Test func submittingACompletedJobIDIsAnErrorUnlessRestartCompleted() async throws {
        let output = directory.path("done.txt")
        let first = try LocalEnvironment("done", config: config(jobID: "done"))
        first.fromSource(CollectionSource([1, 2, 3])).named("numbers").sink(FileSink(path: output)).named("out")
        _ = try await first.submit()

        let again = try LocalEnvironment("done", config: config(jobID: "done"))
        again.fromSource(CollectionSource([1, 2, 3])).named("numbers").sink(FileSink(path: output)).named("out")
        let error = await #expect(throws: PipelineError.self) { try await again.submit() }
        #expect(error?.code == .jobAlreadyCompleted)
        #expect(error?.message.contains("restart_completed: true") == true)

        var fresh = config(jobID: "done")
        fresh["restart_completed"] = true
        let over = try LocalEnvironment("done", config: fresh)
        over.fromSource(CollectionSource([7, 8])).named("numbers").sink(FileSink(path: output)).named("out")
        #expect(try await over.submit().status == .completed)
        #expect(try lines(output) == ["7", "8"], "started over from nothing")
    }
}

/// A sink whose commits fail from the `failFromCommit`-th call on.
final class CommitCountingSink: Sink, Sendable {
    let inner = CollectSink<Int>()
    let commits = Counter()
    let failFromCommit: Int
    init(failFromCommit: Int) { self.failFromCommit = failFromCommit }
    func makeWriter(_ context: SinkContext) throws -> CollectSink<Int>.Writer { try inner.makeWriter(context) }
    func commit(upTo epoch: Int64, context: SinkContext) throws {
        if commits.increment() >= failFromCommit { throw InjectedError("commit \(epoch)") }
        try inner.commit(upTo: epoch, context: context)
    }
    func recover(lastCompleted epoch: Int64?, context: SinkContext) throws { try inner.recover(lastCompleted: epoch, context: context) }
}
