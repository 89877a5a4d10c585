import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct CheckpointTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(_ extra: [String: ConfigValue] = [:], jobID: String? = nil) -> [String: ConfigValue] {
        var ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk")),
            "max_recovery_attempts": 10, "delay": 0, "max_attempts": 0,
        ]
        for (key, value) in extra { ft[key] = value }
        var config: [String: ConfigValue] = ["work_dir": .string(directory.path("work")), "batch_size": 64, "fault_tolerance": .object(ft)]
        if let jobID { config["job_id"] = .string(jobID) }
        return config
    }

    /// Running count per key over 0..<count (key = i % 7), as "key:count:i".
    static func expected(_ count: Int) -> [String] {
        var counts: [Int: Int] = [:]
        return (0..<count).map { i in
            counts[i % 7, default: 0] += 1
            return "\(i % 7):\(counts[i % 7]!):\(i)"
        }
    }

    func build(_ env: LocalEnvironment, count: Int, failures: FailureInjector<Int>, sink: some Sink<String>) {
        env.fromSource(GeneratorSource(count: count) { $0 })
            .map { value -> Int in
                try failures.check(value)
                return value
            }.named("check")
            .keyBy { $0 % 7 }
            .mapWithState(initial: 0) { (count: inout Int, value: Int) in
                count += 1
                return "\(value % 7):\(count):\(value)"
            }.named("count")
            .sink(sink).named("out")
    }

    func sortedPerKey(_ lines: [String]) -> [String] {
        lines.sorted { a, b in
            let x = a.split(separator: ":").compactMap { Int($0) }, y = b.split(separator: ":").compactMap { Int($0) }
            return (x[0], x[1]) < (y[0], y[1])
        }
    }

    @Test func aJobWithCheckpointsCommitsEverythingAtTheEnd() async throws {
        let env = try LocalEnvironment("chk", config: config())
        let sink = CollectSink<String>()
        build(env, count: 5000, failures: FailureInjector(failOn: []), sink: sink)
        let result = try await env.submit()
        #expect(sink.values == Self.expected(5000))
        #expect(!result.checkpoints.isEmpty)
        let root = URL(fileURLWithPath: directory.path("chk")).appendingPathComponent(env.jobID)
        let newest = try #require(CheckpointFiles.ids(in: root).first)
        let (restored, manifest) = try CheckpointFiles.load(root, id: newest)
        #expect(manifest.files.count == 2)
        #expect(CheckpointFiles.ids(in: root).count <= 3, "retained_checkpoints defaults to 3")
        #expect(restored.parts["count"]?[0] != nil)
        #expect(restored.parts["source-0"]?[0] != nil)
    }

    @Test func escalatedFailuresRestoreTheCheckpointAndOutputIsExactlyOnce() async throws {
        let env = try LocalEnvironment("recover", config: config())
        let sink = CollectSink<String>()
        build(env, count: 20_000, failures: FailureInjector(failOn: [3_000, 11_000, 19_999]), sink: sink)
        let result = try await env.submit()
        #expect(sink.values.count == 20_000)
        #expect(sink.values == Self.expected(20_000))
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 3)
    }
}

extension CheckpointTests {
    /// Every checkpoint a run with failures leaves holds the keyed state a failure-free run has
    /// after the records before its source position.
    @Test func checkpointedKeyedStateEqualsTheFailureFreeStateAtItsSourcePosition() async throws {
        let env = try LocalEnvironment("state", config: config(["retained_checkpoints": 1000]))
        let sink = CollectSink<String>()
        build(env, count: 30_000, failures: FailureInjector(failOn: [7_000, 21_000]), sink: sink)
        _ = try await env.submit()
        let root = URL(fileURLWithPath: directory.path("chk")).appendingPathComponent(env.jobID)
        let ids = CheckpointFiles.ids(in: root)
        #expect(ids.count >= 3)
        for id in ids {
            let (restored, _) = try CheckpointFiles.load(root, id: id)
            let positionBytes = try #require(restored.parts["source-0"]?[0])
            let position = try StateCoder.decode(Int.self, from: positionBytes)
            var table = KeyedStateTable<Int, Int>()
            try KeyedStateCodec.decode(try #require(restored.parts["count"]?[0]), into: &table) { _ in true }
            var expected: [Int: Int] = [:]
            for value in 0..<position { expected[value % 7, default: 0] += 1 }
            #expect(table.dictionary == expected, "checkpoint \(id) at source position \(position)")
        }
    }

    func resumeAndRead(_ jobID: String, output: String, count: Int) async throws -> (String, [JobEvent]) {
        let env = try LocalEnvironment("resume", config: config(jobID: jobID))
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        build(env, count: count, failures: FailureInjector(failOn: []), sink: FileSink(path: output))
        _ = try await env.submit()
        await recorder.wait(for: .jobComplete)
        recording.cancel()
        return (try String(contentsOfFile: output, encoding: .utf8), recorder.events)
    }

    /// Rewrites a job's summary to what a `kill -9` leaves: status "running".
    static func markCrashed(jobID: String, workDirectory: String) throws {
        let url = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID).appendingPathComponent("job_summary.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        try text.replacingOccurrences(of: "\"status\" : \"completed\"", with: "\"status\" : \"running\"")
            .write(to: url, atomically: true, encoding: .utf8)
    }

    enum Damage: String, CaseIterable, Sendable {
        case truncateStateFile, flipAByte, deleteMetadata, halfWrittenNewerCheckpoint, everyCheckpoint
    }

    @Test(arguments: Damage.allCases)
    func aDamagedCheckpointIsPassedOverForAnOlderOneOrAFreshStart(damage: Damage) async throws {
        let output = directory.path("out-\(damage.rawValue).txt")
        let jobID = "damaged-\(damage.rawValue)"
        let expected = Self.expected(8_000).map { $0 + "\n" }.joined()
        let first = try LocalEnvironment("first", config: config(["retained_checkpoints": 100], jobID: jobID))
        build(first, count: 8_000, failures: FailureInjector(failOn: []), sink: FileSink(path: output))
        _ = try await first.submit()
        #expect(try String(contentsOfFile: output, encoding: .utf8) == expected)
        // As if the process had been killed after its last checkpoint: a completed job is not
        // resumed (submitting its id again is an error), a crashed one is.
        try Self.markCrashed(jobID: jobID, workDirectory: directory.path("work"))

        let root = URL(fileURLWithPath: directory.path("chk")).appendingPathComponent(jobID)
        let newest = try #require(CheckpointFiles.ids(in: root).first)
        let folder = CheckpointFiles.folder(root, id: newest)
        let stateFile = folder.appendingPathComponent("count-0.state")
        switch damage {
        case .truncateStateFile:
            let bytes = try Data(contentsOf: stateFile)
            try bytes.prefix(bytes.count / 2).write(to: stateFile)
        case .flipAByte:
            var bytes = [UInt8](try Data(contentsOf: stateFile))
            bytes[bytes.count / 2] ^= 0x40
            try Data(bytes).write(to: stateFile)
        case .deleteMetadata:
            try FileManager.default.removeItem(at: folder.appendingPathComponent("_metadata"))
        case .halfWrittenNewerCheckpoint:
            let newer = CheckpointFiles.folder(root, id: newest + 1)
            try FileManager.default.createDirectory(at: newer, withIntermediateDirectories: true)
            try Data([1, 2, 3]).write(to: newer.appendingPathComponent(".count-0.state.tmp-123"))
        case .everyCheckpoint:
            for id in CheckpointFiles.ids(in: root) {
                try? FileManager.default.removeItem(at: CheckpointFiles.folder(root, id: id).appendingPathComponent("_metadata"))
            }
        }

        let catalog = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: directory.path("chk"))
        #expect(catalog.first?.isValid == false, "verification finds the damage")
        #expect(catalog.dropFirst().allSatisfy(\.isValid) || damage == .everyCheckpoint)

        let (resumedOutput, events) = try await resumeAndRead(jobID, output: output, count: 8_000)
        #expect(resumedOutput == expected, "the output is exact after resuming past the damage")
        let skipped = events.filter { $0.kind == .checkpointSkipped }
        switch damage {
        case .halfWrittenNewerCheckpoint:
            #expect(skipped.map(\.attempt) == [Int(newest + 1)])
            #expect(events.contains { $0.kind == .recoveryStart && $0.message.contains("checkpoint \(newest)") })
        case .everyCheckpoint:
            #expect(!skipped.isEmpty)
            #expect(!events.contains { $0.kind == .recoveryStart }, "nothing to resume from: a fresh start")
        default:
            #expect(skipped.first?.attempt == Int(newest))
            #expect(skipped.first?.message.contains("not usable") == true)
            #expect(events.contains { $0.kind == .recoveryStart && $0.message.contains("checkpoint \(newest - 1)") })
        }
    }
}

extension CheckpointTests {
    /// A sink whose commit fails the first `failures` times: the checkpoint fails, and a later
    /// one commits its epochs too.
    final class FlakyCommitSink: Sink, Sendable {
        let inner = CollectSink<String>()
        let failures: FailureInjector<Int>
        init(failures: Int) { self.failures = FailureInjector(failOn: [0], times: failures) }
        func makeWriter(_ context: SinkContext) throws -> CollectSink<String>.Writer { try inner.makeWriter(context) }
        func commit(upTo epoch: Int64, context: SinkContext) throws {
            try failures.check(0)
            try inner.commit(upTo: epoch, context: context)
        }
        func recover(lastCompleted epoch: Int64?, context: SinkContext) throws { try inner.recover(lastCompleted: epoch, context: context) }
    }

    /// keyBy, union and fan-out in one DAG, failures in several operators at many points, and
    /// a sink whose commits fail: every sink's committed output equals the failure-free one.
    @Test func aDagWithUnionFanOutAndKeyByIsExactlyOnceUnderFailures() async throws {
        let env = try LocalEnvironment("dag", config: config(["max_recovery_attempts": 50]))
        let evens = env.fromSource(GeneratorSource(count: 6_000) { $0 * 2 }).named("evens")
        let odds = env.fromSource(GeneratorSource(count: 6_000) { $0 * 2 + 1 }).named("odds")
        let mapFailures = FailureInjector(failOn: [10, 2_501, 7_777, 11_999])
        let keyedFailures = FailureInjector(failOn: [400, 5_001, 9_000])
        let all = evens.union(odds)
            .map { value -> Int in
                try mapFailures.check(value)
                return value
            }.named("check")
        let totals = FlakyCommitSink(failures: 2)
        all.keyBy { $0 % 5 }
            .mapWithState(initial: 0) { (sum: inout Int, value: Int) in
                try keyedFailures.check(value)
                // value + 1, so every record raises its key's sum: a repeated sum is a duplicate.
                sum += value + 1
                return "\(value % 5):\(sum)"
            }.named("sum").parallelism(2)
            .sink(totals).named("totals")
        let squares = CollectSink<Int>()
        all.filter { $0 % 3 == 0 }.named("thirds").map { $0 * $0 }.named("square").sink(squares).named("squares")
        let result = try await env.submit()

        // Per key, the running sums appear in the order of each key's values; sources interleave.
        var byKey: [Int: [Int]] = [:]
        for line in totals.inner.values {
            let parts = line.split(separator: ":").compactMap { Int($0) }
            byKey[parts[0], default: []].append(parts[1])
        }
        let values = (0..<12_000)
        for key in 0..<5 {
            let sums = try #require(byKey[key])
            let keyValues = values.filter { $0 % 5 == key }
            #expect(sums.count == keyValues.count, "key \(key): one sum per value")
            #expect(sums.last == keyValues.reduce(0, +) + keyValues.count, "key \(key): the final sum")
            #expect(zip(sums, sums.dropFirst()).allSatisfy { $0 < $1 }, "key \(key): each sum above the one before")
        }
        #expect(squares.values.sorted() == values.filter { $0 % 3 == 0 }.map { $0 * $0 })
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 7)
        #expect(result.failedCheckpoints >= 2)
    }
}

extension CheckpointTests {
    /// A job cancelled mid-stream and submitted again under the same job id resumes from its
    /// latest checkpoint: the file holds exactly the uninterrupted output, and the resume is
    /// reported as a checkpoint-restore recovery.
    @Test func aJobSubmittedAgainWithItsIDResumesFromItsLatestCheckpoint() async throws {
        let output = directory.path("resume.txt")
        let count = 50_000
        let first = try LocalEnvironment("first", config: config(["checkpoint_interval": 0.002], jobID: "resume-me"))
        let recorder = EventRecorder(first)
        let recording = Task { await recorder.record() }
        build(first, count: count, failures: FailureInjector(failOn: []), sink: FileSink(path: output))
        let job = Task { try await first.submit() }
        await recorder.wait(for: .checkpointComplete)
        first.cancel()
        let cancelled = try await job.value
        recording.cancel()
        // 50,000 records take about a second in a debug build; the cancel comes after the
        // first checkpoint, milliseconds in.
        try #require(cancelled.status == .cancelled)
        let second = try LocalEnvironment("second", config: config(jobID: "resume-me"))
        build(second, count: count, failures: FailureInjector(failOn: []), sink: FileSink(path: output))
        let result = try await second.submit()
        #expect(try String(contentsOfFile: output, encoding: .utf8) == Self.expected(count).map { $0 + "\n" }.joined())
        let resume = result.recoveries.first { $0.kind == .checkpointRestore }
        #expect(resume?.cause.error is PreviousRunEnded)
        let summary = try JobFolder.summary(jobID: "resume-me", workDirectory: directory.path("work"))
        #expect(summary.lastCheckpoint == result.checkpoints.last.map { Int($0.id) })
        #expect(summary.resume.contains("\"job_id\": \"resume-me\""))
    }
}

extension CheckpointTests {
    @Test func triggerCheckpointTakesAManualCheckpointThatIsNeverPruned() async throws {
        let env = try LocalEnvironment("manual", config: config(["checkpoint_interval": 3600, "retained_checkpoints": 1]))
        await #expect(throws: CheckpointError.self) { _ = try await env.triggerCheckpoint() }
        let sink = CollectSink<Int>()
        let running = Gate()
        env.fromSource(GeneratorSource(count: 1_000_000, ratePerSecond: 2_000) { $0 })
            .map { value -> Int in
                running.open()
                return value
            }
            .keyBy { $0 % 3 }.reduce(+).sink(sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        await running.wait()
        let manual = try await env.triggerCheckpoint()
        #expect(manual.manual)
        let automatic = try await env.triggerCheckpoint()
        env.cancel()
        _ = try await job.value
        recording.cancel()
        #expect(automatic.id == manual.id + 1)
        let entries = CheckpointCatalog.entries(jobID: env.jobID, checkpointDirectory: directory.path("chk"))
        #expect(entries.map(\.id).contains(manual.id), "manual checkpoints survive retained_checkpoints: 1")
        #expect(entries.allSatisfy { $0.isValid })
    }

    @Test func aCheckpointThatCannotCompleteIsAbandonedAfterItsTimeout() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("timeout", config: config(["checkpoint_interval": 1, "checkpoint_timeout": 3]), clock: clock)
        // The source holds inside its read after one record, so barrier 1 cannot be injected.
        let source = HoldingSource(count: 10, holdAt: 1, blocking: true)
        let sink = CollectSink<Int>()
        env.fromSource(source).map { $0 * 2 }.sink(sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        await source.reached.wait()
        for _ in 0..<5 {
            let delay = await clock.nextSleep()
            clock.advance(by: delay)
        }
        let abandoned = await recorder.wait(for: .checkpointFailed)
        #expect(abandoned.message.contains("abandoned"))
        #expect((abandoned.attempt ?? 0) >= 1)
        source.release.open()
        let result = try await job.value
        recording.cancel()
        #expect(sink.values == (0..<10).map { $0 * 2 })
        #expect(result.failedCheckpoints >= 1)
        #expect(result.checkpoints.contains { $0.id > 1 }, "a later checkpoint completes and commits everything")
    }

    /// A timeout shorter than the interval is enforced on time: the coordinator used to look
    /// only when the next interval elapsed.
    @Test(.timeLimit(.minutes(3))) func aTimeoutShorterThanTheIntervalIsEnforcedOnTime() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("short-timeout", config: config(["checkpoint_interval": 10, "checkpoint_timeout": 2]), clock: clock)
        let source = HoldingSource(count: 10, holdAt: 1, blocking: true)
        env.fromSource(source).sink(CollectSink<Int>())
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        await source.reached.wait()
        // Move the clock to 12 s in the coordinator's own steps, and let it act on the last one
        // (it sleeps again only after acting).
        var elapsed = Duration.zero
        while true {
            let delay = await clock.nextSleep()
            if elapsed + delay > .seconds(12) { break }
            clock.advance(by: delay)
            elapsed += delay
        }
        #expect(elapsed == .seconds(12))
        let abandoned = await recorder.wait(for: .checkpointFailed)
        #expect(abandoned.message.contains("checkpoint_timeout"), "started at 10 s, abandoned at 12 s, not at the next interval (20 s)")
        source.release.open()
        _ = try await job.value
        recording.cancel()
    }

    /// An async sequence that has nothing to deliver still takes part in checkpoints (a trigger
    /// wakes its reader): a union with a busy input used to stay blocked behind it, and no
    /// checkpoint ever completed while it was idle.
    @Test func anIdleAsyncSequenceDoesNotHoldCheckpointsBack() async throws {
        let env = try LocalEnvironment("idle", config: config(["checkpoint_interval": 3600]))
        let (stream, feed) = AsyncStream.makeStream(of: Int.self)
        let busy = env.fromSource(GeneratorSource(count: 2_000) { $0 }).named("busy")
        let running = Gate()
        let idle = env.fromSource(AsyncSequenceSource(stream)).named("idle").map { value -> Int in
            running.open()
            return value
        }.named("seen")
        let sink = CollectSink<Int>()
        busy.union(idle).sink(sink).named("out")
        let job = Task { try await env.submit() }
        feed.yield(-1)
        await running.wait()
        let first = try await env.triggerCheckpoint()
        let second = try await env.triggerCheckpoint()
        #expect(second.id > first.id)
        feed.finish()
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == [-1] + Array(0..<2_000))
    }
}

extension CheckpointTests {
    /// Counts the records it has seen; its count is in every checkpoint.
    struct Numbering: MapOperator, CheckpointableOperator {
        var seen = 0
        let failures: FailureInjector<Int>
        mutating func map(_ input: Int) async throws -> String {
            try failures.check(input)
            seen += 1
            return "\(input)#\(seen)"
        }
        func snapshotState() throws -> Int { seen }
        mutating func restoreState(_ state: Int) throws { seen = state }
    }

    @Test func aCheckpointableOperatorsOwnStateIsRestored() async throws {
        let env = try LocalEnvironment("operator-state", config: config())
        let failures = FailureInjector(failOn: [2_000, 7_000])
        let sink = CollectSink<String>()
        env.fromSource(GeneratorSource(count: 10_000) { $0 })
            .map { Numbering(failures: failures) }.named("number")
            .sink(sink)
        let result = try await env.submit()
        #expect(sink.values == (0..<10_000).map { "\($0)#\($0 + 1)" }, "the count resumes from the checkpoint, not from zero")
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 2)
    }

    @Test func recoveriesStopAtMaxRecoveryAttempts() async throws {
        let env = try LocalEnvironment("give-up", config: config(["max_recovery_attempts": 2]))
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        build(env, count: 1_000, failures: FailureInjector(failOn: [500], times: .max), sink: CollectSink<String>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        await recorder.wait(for: .jobFailed)
        recording.cancel()
        #expect(recorder.events(.recoveryStart).count == 2)
        #expect(error?.cause.record == "500")
        #expect(error?.history.count == 3, "the first failure and one per recovery")
        #expect(recorder.events(.failureEscalated).last?.message.contains("max_recovery_attempts (2) reached") == true)
    }
}
