import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// When checkpoints are taken: every N records entered the sources, only when asked
/// (`checkpoint_mode: "manual"`), never; combinations that contradict each other are rejected
/// with errors that say why; `verify_writes` reads every state file back before a checkpoint
/// counts.
@Suite struct CheckpointTriggerTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(_ faultTolerance: [String: ConfigValue]) -> [String: ConfigValue] {
        var fault: [String: ConfigValue] = ["strategy": "checkpoint", "checkpoint_dir": .string(directory.path("chk")), "delay": 0]
        for (key, value) in faultTolerance { fault[key] = value }
        return ["work_dir": .string(directory.path("work")), "fault_tolerance": .object(fault)]
    }

    func rejection(_ faultTolerance: [String: ConfigValue]) -> ConfigurationError? {
        #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["fault_tolerance": .object(faultTolerance)]) }
    }

    @Test func theTriggerKeysAreParsedAndContradictionsRejected() throws {
        let manual = try EnvironmentConfiguration(["fault_tolerance": ["strategy": "checkpoint", "checkpoint_mode": "manual", "checkpoint_interval": 0]])
        #expect(manual.faultTolerance.checkpointMode == .manual)
        #expect(manual.faultTolerance.checkpointInterval == .zero)
        let every = try EnvironmentConfiguration([
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_every_records": 5_000, "verify_writes": true],
        ])
        #expect(every.faultTolerance.checkpointMode == .periodic)
        #expect(every.faultTolerance.checkpointEveryRecords == 5_000)
        #expect(every.faultTolerance.verifyWrites)
        #expect(try EnvironmentConfiguration(every.dictionaryRepresentation) == every, "the keys survive job_summary.json")
        #expect(try EnvironmentConfiguration(manual.dictionaryRepresentation) == manual)
        let disabled = try EnvironmentConfiguration(["fault_tolerance": ["strategy": "restart", "checkpoint_mode": "disabled"]])
        #expect(disabled.faultTolerance.checkpointMode == .disabled, "no checkpoints with restart: nothing to contradict")

        let zero = rejection(["strategy": "checkpoint", "checkpoint_interval": 0])
        #expect(zero?.code == .outOfRange)
        #expect(zero?.keyPath == "fault_tolerance.checkpoint_interval")
        let typo = rejection(["strategy": "checkpoint", "checkpoint_mode": "manaul"])
        #expect(typo?.code == .unknownValue)
        #expect(typo?.suggestion == "manual")
        let contradiction = rejection(["strategy": "checkpoint", "checkpoint_mode": "disabled"])
        #expect(contradiction?.code == .conflictingKeys)
        #expect(contradiction?.description.contains("contradicts strategy \"checkpoint\"") == true)
        #expect(contradiction?.description.contains("checkpoint_mode \"manual\"") == true, "it says what to use instead")
        let manualRestart = rejection(["strategy": "restart", "checkpoint_mode": "manual"])
        #expect(manualRestart?.code == .conflictingKeys)
        #expect(manualRestart?.keyPath == "fault_tolerance.checkpoint_mode")
        let recordsRestart = rejection(["checkpoint_every_records": 100])
        #expect(recordsRestart?.description.contains("only strategy \"checkpoint\" does (strategy is \"restart\")") == true)
        let recordsManual = rejection(["strategy": "checkpoint", "checkpoint_mode": "manual", "checkpoint_every_records": 100])
        #expect(recordsManual?.keyPath == "fault_tolerance.checkpoint_every_records")
        #expect(recordsManual?.description.contains("checkpoint_mode is \"manual\"") == true)
        #expect(rejection(["strategy": "checkpoint", "checkpoint_every_records": 0])?.code == .outOfRange)
        #expect(rejection(["strategy": "checkpoint", "verify_writes": "yes"])?.code == .wrongType)
    }

    /// A configuration built in code gets the same checks as the dictionary.
    @Test func aTypedConfigurationIsCheckedLikeTheDictionary() throws {
        var contradiction = EnvironmentConfiguration(faultTolerance: FaultToleranceConfiguration(strategy: .checkpoint))
        contradiction.faultTolerance.checkpointMode = .disabled
        let disabled = #expect(throws: ConfigurationError.self) { try LocalEnvironment("typed", configuration: contradiction) }
        #expect(disabled?.description.contains("contradicts strategy \"checkpoint\"") == true)
        var zero = EnvironmentConfiguration(faultTolerance: FaultToleranceConfiguration(strategy: .checkpoint))
        zero.faultTolerance.checkpointInterval = .zero
        #expect(#expect(throws: ConfigurationError.self) { try LocalEnvironment("typed", configuration: zero) }?.keyPath == "fault_tolerance.checkpoint_interval")
        var negative = EnvironmentConfiguration()
        negative.retention = RetentionConfiguration(maxDays: -1)
        #expect(#expect(throws: ConfigurationError.self) { try LocalEnvironment("typed", configuration: negative) }?.keyPath == "retention.max_days")
    }

    /// With an interval of an hour on a clock that never moves, only the record count can
    /// start checkpoints: the source holds after 5,000 records (every 1,000 due one) until one
    /// has completed; the output is exactly that of the input.
    @Test(.timeLimit(.minutes(3))) func aCheckpointIsTakenEveryNRecords() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment(
            "every-records", config: config(["checkpoint_interval": 3600, "checkpoint_every_records": 1_000]), clock: clock)
        let source = HoldingSource(count: 8_000, holdAt: 5_000, blocking: false)
        let sink = CollectSink<Int>()
        env.fromSource(source).map { $0 * 2 }.keyBy { $0 % 7 }.reduce(+).sink(sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        await source.reached.wait()
        let complete = await recorder.wait(for: .checkpointComplete)
        source.release.open()
        let result = try await job.value
        recording.cancel()
        #expect(result.status == .completed)
        #expect(clock.now == ManualClock.Instant(offset: .zero), "the clock never moved: no interval came due")
        #expect((complete.attempt ?? 0) >= 1)
        #expect(recorder.events(.checkpointStart).allSatisfy { !$0.message.contains("manual") })
        var sums: [Int: Int] = [:]
        var expected: [Int] = []
        for value in (0..<8_000).map({ $0 * 2 }) {
            sums[value % 7, default: 0] += value
            expected.append(sums[value % 7]!)
        }
        #expect(sink.values.sorted() == expected.sorted())
    }

    /// In manual mode the coordinator never starts a checkpoint of its own, however far the
    /// clock moves: the first checkpoint is the one asked for, and the final one follows it.
    @Test(.timeLimit(.minutes(3))) func manualModeTakesOnlyTheCheckpointsAskedFor() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment(
            "manual-mode", config: config(["checkpoint_mode": "manual", "checkpoint_interval": 0, "checkpoint_timeout": 5]), clock: clock)
        let source = HoldingSource(count: 2_000, holdAt: 1_000, blocking: false)
        let sink = CollectSink<Int>()
        env.fromSource(source).keyBy { $0 % 3 }.reduce(+).sink(sink)
        let job = Task { try await env.submit() }
        await source.reached.wait()
        // Ten timeouts' worth of time: a periodic coordinator would have started checkpoints.
        for _ in 0..<10 {
            let delay = await clock.nextSleep()
            #expect(delay == .seconds(5), "manual mode only wakes to abandon a checkpoint that overran its timeout")
            clock.advance(by: delay)
        }
        let asked = try await env.triggerCheckpoint()
        #expect(asked.id == 1, "no checkpoint started before the one asked for")
        #expect(asked.manual)
        source.release.open()
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(result.checkpoints.map(\.id) == [1, 2], "the one asked for and the final one")
        #expect(sink.values.count == 2_000)
    }

    /// A storage whose state files read back differently from what was written (a bad disk,
    /// a full one that truncated silently).
    struct FlakyDisk: CheckpointStorage {
        let inner: LocalCheckpointStorage

        func writePart(checkpoint id: Int64, fileName: String, bytes: [UInt8]) throws -> CheckpointManifest.File {
            let file = try inner.writePart(checkpoint: id, fileName: fileName, bytes: bytes)
            // What reaches the disk is not what was handed over.
            try Data(bytes.dropLast(3)).write(to: CheckpointFiles.folder(inner.root, id: id).appendingPathComponent(fileName))
            return file
        }

        func verifyPart(checkpoint id: Int64, file: CheckpointManifest.File) throws { try inner.verifyPart(checkpoint: id, file: file) }
        func writeManifest(_ manifest: CheckpointManifest) throws { try inner.writeManifest(manifest) }
        func list() -> [Int64] { inner.list() }
        func manifest(_ id: Int64) throws -> CheckpointManifest { try inner.manifest(id) }
        func load(_ id: Int64, jobID: String) throws -> RestoredCheckpoint { try inner.load(id, jobID: jobID) }
        func remove(_ id: Int64) { inner.remove(id) }
        func lock(jobID: String) throws -> JobLock { try inner.lock(jobID: jobID) }
    }

    static func complete(id: Int64) -> CheckpointCoordinatorStateMachine.Complete {
        CheckpointCoordinatorStateMachine.Complete(
            id: id, manual: false,
            acks: [
                CheckpointAck(
                    key: "count-0", fileName: "count-0.state", parts: ["count": .bytes(Array(repeating: 7, count: 100))], alignment: .zero,
                    stall: .zero)
            ])
    }

    /// With `verify_writes` a state file that does not read back as written fails the
    /// checkpoint before its manifest exists, and the sinks do not commit; without it the same
    /// damage goes unnoticed until a restore.
    @Test func verifyWritesFailsACheckpointWhoseFilesDoNotReadBack() async throws {
        let storage = FlakyDisk(inner: LocalCheckpointStorage(checkpointDirectory: directory.path("flaky"), jobID: "job"))
        let commits = Counter()
        let verified = await CheckpointCoordinator.write(
            Self.complete(id: 1), began: .now, jobID: "job", storage: storage, operators: ["count"], fingerprint: "f", verify: true,
            commitSinks: { _ in commits.increment() })
        guard case .failure(let error) = verified else {
            Issue.record("a checkpoint whose file is damaged must fail with verify_writes")
            return
        }
        #expect("\(error)".contains("count-0.state read back has"))
        #expect(commits.current == 0, "nothing is committed on a checkpoint that failed")
        #expect(throws: (any Error).self) { try storage.manifest(1) }

        let unverified = await CheckpointCoordinator.write(
            Self.complete(id: 2), began: .now, jobID: "job", storage: storage, operators: ["count"], fingerprint: "f", verify: false,
            commitSinks: { _ in commits.increment() })
        guard case .success = unverified else {
            Issue.record("without verify_writes the write itself succeeds")
            return
        }
        #expect(commits.current == 1)
        #expect(throws: CheckpointInvalid.self) { try storage.load(2, jobID: "job") }

        let healthy = LocalCheckpointStorage(checkpointDirectory: directory.path("healthy"), jobID: "job")
        let written = await CheckpointCoordinator.write(
            Self.complete(id: 1), began: .now, jobID: "job", storage: healthy, operators: ["count"], fingerprint: "f", verify: true,
            commitSinks: { _ in commits.increment() })
        guard case .success = written else {
            Issue.record("a healthy disk verifies")
            return
        }
        #expect(try healthy.load(1, jobID: "job").id == 1)
    }

    /// End to end: a job with `verify_writes` completes its checkpoints and restores from them.
    @Test func aJobWithVerifiedWritesCheckpointsAndFinishes() async throws {
        let env = try LocalEnvironment("verified", config: config(["checkpoint_interval": 0.001, "verify_writes": true]))
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 20_000) { $0 }).keyBy { $0 % 5 }.reduce(+).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(!result.checkpoints.isEmpty)
        #expect(result.failedCheckpoints == 0)
        #expect(sink.values.count == 20_000)
    }
}
