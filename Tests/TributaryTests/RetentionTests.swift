import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `retention` removes job folders and checkpoints by policy when a job ends, and `tributary
/// jobs prune` by hand; never a running job, never the checkpoint a failed job resumes from.
@Suite struct RetentionTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    var work: String { directory.path("work") }
    var checkpoints: String { directory.path("chk") }

    func config(_ jobID: String, retention: [String: ConfigValue]? = nil) -> [String: ConfigValue] {
        var config: [String: ConfigValue] = [
            "work_dir": .string(work), "job_id": .string(jobID),
            "fault_tolerance": [
                "strategy": "checkpoint", "checkpoint_interval": 3600, "checkpoint_dir": .string(checkpoints), "delay": 0, "max_attempts": 0,
                "max_recovery_attempts": 0,
            ],
        ]
        if let retention { config["retention"] = .object(retention) }
        return config
    }

    /// A job that completes (with its final checkpoint).
    func completed(_ jobID: String, retention: [String: ConfigValue]? = nil, env made: ((LocalEnvironment) -> Void)? = nil) async throws {
        let env = try LocalEnvironment(jobID, config: config(jobID, retention: retention))
        made?(env)
        env.fromCollection(Array(0..<50)).keyBy { $0 % 3 }.reduce(+).sink(CollectSink<Int>())
        let result = try await env.submit()
        #expect(result.status == .completed)
    }

    /// A job that takes two checkpoints, then fails: it resumes from the second.
    func failed(_ jobID: String) async throws {
        let env = try LocalEnvironment(jobID, config: config(jobID))
        let source = HoldingSource(count: 1_000, holdAt: 500, blocking: false)
        env.fromSource(source).map { value -> Int in
            if value == 800 { throw InjectedError("boom") }
            return value
        }.named("fragile").keyBy { $0 % 3 }.reduce(+).sink(CollectSink<Int>())
        let job = Task { try await env.submit() }
        await source.reached.wait()
        _ = try await env.triggerCheckpoint()
        _ = try await env.triggerCheckpoint()
        source.release.open()
        await #expect(throws: JobFailedError.self) { try await job.value }
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func theKeysAreParsedAndBadOnesRejected() throws {
        let parsed = try EnvironmentConfiguration(["retention": ["policy": "cleanup_all", "max_days": 7, "cleanup_on_success": true]])
        #expect(parsed.retention == RetentionConfiguration(policy: .cleanupAll, maxDays: 7, cleanupOnSuccess: true))
        #expect(try EnvironmentConfiguration(parsed.dictionaryRepresentation) == parsed)
        #expect(try EnvironmentConfiguration([:]).retention.keepsEverything)
        let typo = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["retention": ["policy": "keep_faild_only"]]) }
        #expect(typo?.suggestion == "keep_failed_only")
        #expect(#expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["retention": ["max_days": 0]]) }?.code == .outOfRange)
        #expect(#expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["retention": ["max_age": 3]]) }?.code == .unknownKey)
    }

    /// One completed job, one failed with two checkpoints, one completed that a process holds:
    /// what each policy removes.
    @Test(.timeLimit(.minutes(3))) func eachPolicyRemovesWhatItSaysAndNeverARunningJobOrAResumeCheckpoint() async throws {
        try await completed("done")
        try await failed("broken")
        try await completed("held")
        let held = try JobLock(folder: URL(fileURLWithPath: work).appendingPathComponent("held"), jobID: "held")
        defer { withExtendedLifetime(held) {} }
        let folder = { (job: String) in URL(fileURLWithPath: self.work).appendingPathComponent(job).path }
        let chk = { (job: String) in URL(fileURLWithPath: self.checkpoints).appendingPathComponent(job).path }
        #expect(CheckpointCatalog.entries(jobID: "broken", checkpointDirectory: checkpoints).map(\.id) == [2, 1])

        #expect(JobRetention.plan(workDirectory: work, retention: RetentionConfiguration()).isEmpty)
        let failedOnly = JobRetention.plan(workDirectory: work, retention: RetentionConfiguration(policy: .keepFailedOnly))
        #expect(Set(failedOnly.map(\.path)) == [folder("done"), chk("done")])
        let everything = JobRetention.plan(workDirectory: work, retention: RetentionConfiguration(policy: .cleanupAll))
        #expect(Set(everything.map(\.path)) == [folder("done"), chk("done"), folder("broken"), chk("broken") + "/chk-1"])
        let young = JobRetention.plan(workDirectory: work, retention: RetentionConfiguration(maxDays: 1))
        #expect(young.isEmpty, "nothing ended a day ago")
        let later = JobRetention.plan(workDirectory: work, retention: RetentionConfiguration(maxDays: 1), now: Date().addingTimeInterval(3 * 86_400))
        #expect(Set(later.map(\.path)) == Set(everything.map(\.path)), "max_days cleans up what is older")

        let removed = JobRetention.apply(everything, workDirectory: work)
        #expect(Set(removed.map(\.path)) == Set(everything.map(\.path)))
        #expect(!exists(folder("done")) && !exists(chk("done")) && !exists(folder("broken")))
        #expect(exists(folder("held")) && exists(chk("held")), "a job a process holds stays")
        #expect(CheckpointCatalog.entries(jobID: "broken", checkpointDirectory: checkpoints).map(\.id) == [2], "the resume checkpoint stays")
        // The failed job resumes from it and finishes.
        let resumed = try LocalEnvironment("broken", config: config("broken"))
        let sink = CollectSink<Int>()
        resumed.fromSource(HoldingSource(count: 1_000, holdAt: -1, blocking: false)).map { $0 }.named("fragile").keyBy { $0 % 3 }.reduce(+).sink(sink)
        let result = try await resumed.submit()
        #expect(result.status == .completed)
        #expect(sink.values.count == 500, "the records after the resume checkpoint")
    }

    /// A job configured to clean up after itself removes its own folder and checkpoints when it
    /// completes; the `RETENTION` event says so before its last event.
    @Test(.timeLimit(.minutes(3))) func cleanupOnSuccessRemovesTheJobThatCompleted() async throws {
        try await completed("older")
        let seen = Recorder<String>()
        try await completed("tidy", retention: ["cleanup_on_success": true]) { env in
            env.onEvent { seen.append($0.kind.rawValue + " " + $0.message) }
        }
        #expect(!exists(URL(fileURLWithPath: work).appendingPathComponent("tidy").path))
        #expect(!exists(URL(fileURLWithPath: checkpoints).appendingPathComponent("tidy").path))
        #expect(exists(URL(fileURLWithPath: work).appendingPathComponent("older").path), "keep_all keeps the others")
        let kinds = seen.values.map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(kinds.suffix(2) == ["RETENTION", "JOB_COMPLETE"])
        #expect(seen.values.first { $0.hasPrefix("RETENTION") }?.contains("cleanup_on_success") == true)
    }

    @Test(.timeLimit(.minutes(3))) func pruneListsWhatItWouldRemoveAndRemovesIt() async throws {
        try await completed("one", retention: ["policy": "keep_all"])
        try await completed("two")
        func prune(_ arguments: [String]) async throws -> (status: Int32, text: String) {
            let child = try ChildProcess(executable: WatchdogTests.binary("tributary"), arguments: ["jobs", "prune", "--work-dir", work] + arguments)
            let text = await child.text()
            return (await child.waitForExit(), text)
        }
        let none = try await prune([])
        #expect(none.status == 64, "no job configured a policy to prune by: \(none.text)")
        let dry = try await prune(["--dry-run", "--policy", "keep_failed_only"])
        #expect(dry.status == 0)
        #expect(dry.text.contains("would remove 4 folders"), "\(dry.text)")
        #expect(exists(URL(fileURLWithPath: work).appendingPathComponent("one").path), "a dry run removes nothing")
        let real = try await prune(["--policy", "keep_failed_only"])
        #expect(real.text.contains("removed 4 folders"), "\(real.text)")
        #expect(JobFolder.list(workDirectory: work).isEmpty)
    }
}
