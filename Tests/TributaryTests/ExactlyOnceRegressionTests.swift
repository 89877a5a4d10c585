import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Regression tests of exactly-once holes found by review (issue 8, items 4, 6 and 9): each
/// failed before the second design of the runtime core.
@Suite struct ExactlyOnceRegressionTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(jobID: String, interval: Double = 0.001, _ extra: [String: ConfigValue] = [:]) -> [String: ConfigValue] {
        var ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_interval": .double(interval), "checkpoint_dir": .string(directory.path("chk")),
            "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
        ]
        for (key, value) in extra { ft[key] = value }
        return ["job_id": .string(jobID), "work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(ft)]
    }

    /// Item 4: after an in-process recovery an AsyncSequenceSource used to iterate its base
    /// sequence again: an AsyncStream (already consumed) ended the job at once, dropping every
    /// element not yet read, and the job reported success. Now the sequence is iterated once
    /// for the job: only elements handed over after the restored checkpoint are lost, and an
    /// event says how many.
    @Test func anAsyncStreamGoesOnAfterARecoveryAndReportsWhatItLost() async throws {
        let (stream, feed) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .unbounded)
        for value in 0..<2_000 { feed.yield(value) }
        feed.finish()
        let env = try LocalEnvironment("stream", config: config(jobID: "stream"))
        let failures = FailureInjector(failOn: [1_000])
        let sink = CollectSink<Int>()
        env.fromSource(AsyncSequenceSource(stream, bufferCapacity: 64)).named("events")
            .map { value -> Int in
                try failures.check(value)
                return value
            }.named("check").supervised(.restoreCheckpoint)
            .sink(sink).named("out")
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let result = try await env.submit()
        await recorder.wait(for: .jobComplete)
        recording.cancel()
        #expect(result.recoveries.contains { $0.kind == .checkpointRestore })
        let values = sink.values
        #expect(values.last == 1_999, "the stream goes on to its end after the recovery")
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 }, "no element twice")
        let lostEvents = recorder.events(.warning).filter { $0.message.contains("are lost by this recovery") }
        let lost = lostEvents.compactMap { event in
            event.message.split(separator: " ").first { Int($0) != nil }.flatMap { Int($0) }
        }.reduce(0, +)
        #expect(values.count + lost == 2_000, "every element is either in the output or counted as lost: \(recorder.events.map(\.message))")
    }

    func buildNumbers(_ env: LocalEnvironment, output: String, mapName: String = "double") {
        env.fromSource(GeneratorSource(count: 3_000) { $0 }).named("numbers")
            .map { $0 * 2 }.named(mapName)
            .sink(FileSink(path: output)).named("out")
    }

    func runToACheckpointAndCrash(jobID: String, output: String) async throws {
        let env = try LocalEnvironment("first", config: config(jobID: jobID))
        buildNumbers(env, output: output)
        _ = try await env.submit()
        try CheckpointTests.markCrashed(jobID: jobID, workDirectory: directory.path("work"))
    }

    /// Item 6: a checkpoint taken by another graph (an operator renamed) used to be restored
    /// as far as names matched: the renamed operator started empty while sinks kept output.
    @Test func resumingIntoAChangedGraphFailsNamingTheOperatorsUnlessAllowed() async throws {
        let output = directory.path("out.txt")
        try await runToACheckpointAndCrash(jobID: "changed", output: output)

        let renamed = try LocalEnvironment("second", config: config(jobID: "changed"))
        buildNumbers(renamed, output: output, mapName: "twice")
        let error = await #expect(throws: JobFailedError.self) { try await renamed.submit() }
        let mismatch = try #require(error?.cause.error as? CheckpointStateMismatchError)
        #expect(mismatch.operatorsWithoutState == ["twice"])
        #expect(mismatch.stateWithoutOperator == ["double"])
        #expect(mismatch.description.contains("allow_non_restored_state"))

        try CheckpointTests.markCrashed(jobID: "changed", workDirectory: directory.path("work"))
        let allowed = try LocalEnvironment("third", config: config(jobID: "changed", ["allow_non_restored_state": true]))
        buildNumbers(allowed, output: output, mapName: "twice")
        let recorder = EventRecorder(allowed)
        let recording = Task { await recorder.record() }
        _ = try await allowed.submit()
        await recorder.wait(for: .jobComplete)
        recording.cancel()
        #expect(recorder.events(.warning).contains { $0.message.contains("restoring what matches") })
    }

    /// Item 6: a checkpoint folder whose manifest names another checkpoint id or another job
    /// was trusted; a folder whose number would overflow the next id trapped every start.
    @Test func aManifestThatDoesNotMatchItsFolderOrJobIsPassedOver() async throws {
        let output = directory.path("out.txt")
        try await runToACheckpointAndCrash(jobID: "copied", output: output)
        let root = URL(fileURLWithPath: directory.path("chk")).appendingPathComponent("copied")
        let newest = try #require(CheckpointFiles.ids(in: root).first)
        // A copy of the newest checkpoint under a higher number, and one of another job.
        try FileManager.default.copyItem(at: CheckpointFiles.folder(root, id: newest), to: CheckpointFiles.folder(root, id: newest + 5))
        let foreign = CheckpointFiles.folder(root, id: newest + 9)
        try FileManager.default.copyItem(at: CheckpointFiles.folder(root, id: newest), to: foreign)
        var manifest = try CheckpointFiles.readManifest(foreign)
        manifest.checkpointID = newest + 9
        manifest.jobID = "someone-else"
        try JSONEncoder().encode(manifest).write(to: foreign.appendingPathComponent("_metadata"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("chk-9223372036854775807"), withIntermediateDirectories: true)

        let env = try LocalEnvironment("resume", config: config(jobID: "copied"))
        buildNumbers(env, output: output)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let result = try await env.submit()
        await recorder.wait(for: .jobComplete)
        recording.cancel()
        #expect(result.status == .completed)
        let skipped = recorder.events(.checkpointSkipped).map(\.message)
        #expect(skipped.contains { $0.contains("belongs to job 'someone-else'") })
        #expect(skipped.contains { $0.contains("manifest of checkpoint \(newest)") })
        #expect(try String(contentsOfFile: output, encoding: .utf8) == (0..<3_000).map { "\($0 * 2)\n" }.joined())
    }

    /// Item 9: a record skipped by .resume was dead-lettered again after every restore that
    /// replayed it.
    @Test func aSkippedRecordIsDeadLetteredOnceAcrossRestores() async throws {
        let env = try LocalEnvironment("letters", config: config(jobID: "letters", interval: 3600))
        let poison = FailureInjector(failOn: [100], times: .max)
        let escalate = FailureInjector(failOn: [700, 1_500])
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 2_000) { $0 }).named("numbers")
            .map { value -> Int in
                try poison.check(value)
                return value
            }.named("parse").supervised(.resume)
            .map { value -> Int in
                try escalate.check(value)
                return value
            }.named("check").supervised(.restoreCheckpoint)
            .sink(sink).named("out")
        let result = try await env.submit()
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 2, "both restores replay record 100")
        #expect(result.deadLetters.count == 1)
        #expect(result.deadLetters.first?.record == "100")
        #expect(sink.values == (0..<2_000).filter { $0 != 100 })
    }

    /// A cancel while a job-level recovery waits out its delay used to be lost (the attempt had
    /// already stopped on its failure, and only the first stop counted): the job went on.
    @Test(.timeLimit(.minutes(3))) func aCancelDuringARecoveryDelayEndsTheJob() async throws {
        let clock = ManualClock()
        let settings = config(jobID: "cancel-recovery", interval: 3600, ["delay": 30])
        let env = try LocalEnvironment("cancel-recovery", config: settings, clock: clock)
        let failures = FailureInjector(failOn: [50])
        env.fromSource(GeneratorSource(count: 1_000) { $0 }).named("numbers")
            .map { value -> Int in
                try failures.check(value)
                return value
            }.named("check").supervised(.restoreCheckpoint)
            .sink(CollectSink<Int>()).named("out")
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        _ = await recorder.wait(for: .failureEscalated)
        // The recovery waits 30 s on the manual clock (not the checkpoint interval's hour):
        // cancel meanwhile. The job ends without the clock moving on.
        while await clock.nextSleep() != .seconds(30) {}
        env.cancel()
        let result = try await job.value
        recording.cancel()
        #expect(result.status == .cancelled)
        #expect(recorder.events(.recoveryStart).isEmpty, "no attempt starts after the cancel")
    }

    /// A stop during a recovery's delay ends the delay too: the next attempt restores, finds
    /// its source asked to stop, takes the final checkpoint and the job ends `.stopped`, with
    /// no record committed twice and without the clock moving on. Submitted again, the job
    /// resumes there and ends with every record exactly once.
    @Test(.timeLimit(.minutes(3))) func aStopDuringARecoveryDelayEndsTheJobWithAFinalCheckpoint() async throws {
        let clock = ManualClock()
        let settings = config(jobID: "stop-recovery", interval: 3600, ["delay": 30])
        let failures = FailureInjector(failOn: [50])
        func build(_ env: LocalEnvironment, _ sink: CollectSink<Int>) {
            env.fromSource(GeneratorSource(count: 1_000) { $0 }).named("numbers")
                .map { value -> Int in
                    try failures.check(value)
                    return value
                }.named("check").supervised(.restoreCheckpoint)
                .sink(sink).named("out")
        }
        let env = try LocalEnvironment("stop-recovery", config: settings, clock: clock)
        let sink = CollectSink<Int>()
        build(env, sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        _ = await recorder.wait(for: .failureEscalated)
        while await clock.nextSleep() != .seconds(30) {}
        env.stop()
        let result = try await job.value
        recording.cancel()
        #expect(result.status == .stopped)
        #expect(sink.values == Array(0..<sink.values.count), "a prefix, each record once")
        let resumed = try LocalEnvironment("stop-recovery", config: settings)
        let rest = CollectSink<Int>()
        build(resumed, rest)
        let second = try await resumed.submit()
        #expect(second.status == .completed)
        #expect(sink.values + rest.values == Array(0..<1_000))
    }

    /// An operator whose restore throws: the attempt stops on a failure no supervisor saw, and
    /// the job used to end `.completed` after an empty run.
    @Test func aRestoreThatThrowsFailsTheJobInsteadOfCompletingIt() async throws {
        struct Fragile: MapOperator, CheckpointableOperator {
            var seen = 0
            mutating func map(_ input: Int) async throws -> Int {
                seen += 1
                return input
            }
            func snapshotState() throws -> Int { seen }
            mutating func restoreState(_ state: Int) throws { throw InjectedError("restore") }
        }
        let output = directory.path("fragile.txt")
        let first = try LocalEnvironment("fragile", config: config(jobID: "fragile"))
        first.fromSource(GeneratorSource(count: 500) { $0 }).named("numbers").map { Fragile() }.named("fragile")
            .sink(FileSink(path: output)).named("out")
        _ = try await first.submit()
        try CheckpointTests.markCrashed(jobID: "fragile", workDirectory: directory.path("work"))

        let second = try LocalEnvironment("fragile", config: config(jobID: "fragile", ["max_recovery_attempts": 0]))
        second.fromSource(GeneratorSource(count: 500) { $0 }).named("numbers").map { Fragile() }.named("fragile")
            .sink(FileSink(path: output)).named("out")
        let error = await #expect(throws: JobFailedError.self) { try await second.submit() }
        #expect(error?.result.status == .failed)
        let cause = error.map { "\($0.cause.error)" } ?? ""
        #expect(cause.contains("restore"))
    }
}
