import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `health`: a threshold crossed at a metrics sample writes one `HEALTH_WARNING` event per
/// crossing and acts per `health.action` — only warn, take a checkpoint, or fail the job.
/// Free disk under an impossible minimum crosses at every sample, so the tests need no load.
@Suite struct HealthTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test func theKeysAreParsedAndContradictionsRejected() throws {
        let parsed = try EnvironmentConfiguration(["health": ["max_memory_percent": 80, "min_disk_free_mb": 500, "max_queue_fill_seconds": 10, "max_cpu_percent": 190, "action": "checkpoint"]])
        #expect(parsed.health == HealthConfiguration(maxMemoryPercent: 80, minDiskFreeMB: 500, maxQueueFillSeconds: 10, maxCPUPercent: 190, action: .checkpoint))
        #expect(try EnvironmentConfiguration(parsed.dictionaryRepresentation) == parsed)
        #expect(#expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["health": ["action": "fial"]]) }?.suggestion == "fail")
        #expect(#expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["health": ["max_memory_percent": 150]]) }?.code == .outOfRange)
        let off = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["metrics_interval": 0, "health": ["max_cpu_percent": 90]]) }
        #expect(off?.description.contains("metrics_interval is 0") == true)
    }

    func env(_ name: String, action: String, faultTolerance: [String: ConfigValue]? = nil, clock: ManualClock? = nil) throws -> LocalEnvironment {
        var config: [String: ConfigValue] = [
            "work_dir": .string(directory.path("work")), "metrics_interval": 0.01,
            "health": ["min_disk_free_mb": 1e11, "action": .string(action)],
        ]
        if let faultTolerance { config["fault_tolerance"] = .object(faultTolerance) }
        if let clock { return try LocalEnvironment(name, config: config, clock: clock) }
        return try LocalEnvironment(name, config: config)
    }

    /// Waits for the first event of `kind`, then for `samples` more metrics samples.
    func await(_ kind: JobEvent.Kind, thenSamples samples: Int, in events: AsyncStream<JobEvent>) async -> JobEvent? {
        var found: JobEvent?
        var seen = 0
        for await event in events {
            if found == nil, event.kind == kind { found = event }
            if found != nil, event.kind == .performanceMetric { seen += 1 }
            if found != nil, seen >= samples { break }
        }
        return found
    }

    @Test(.timeLimit(.minutes(3))) func aCrossedThresholdWarnsOncePerCrossing() async throws {
        let env = try env("warned", action: "warn")
        let source = HoldingSource(count: 2_000, holdAt: 1_000, blocking: false)
        env.fromSource(source).map { $0 }.sink(CollectSink<Int>())
        let events = env.events()
        let job = Task { try await env.submit() }
        await source.reached.wait()
        let warning = try #require(await self.await(.healthWarning, thenSamples: 3, in: events))
        #expect(warning.message.contains("free where work_dir is, under min_disk_free_mb"))
        #expect(warning.message.contains("warning only"))
        source.release.open()
        let result = try await job.value
        #expect(result.status == .completed)
        let logged = JobFolder.parseEvents(try String(contentsOfFile: JobFolder.eventFiles(jobID: env.jobID, workDirectory: directory.path("work")).json, encoding: .utf8))
        #expect(logged.filter { $0.kind == .healthWarning && $0.message.contains("work_dir") }.count == 1, "three more samples crossed, one warning")
    }

    @Test(.timeLimit(.minutes(3))) func actionFailFailsTheJob() async throws {
        let env = try env("failed", action: "fail")
        let source = HoldingSource(count: 2_000, holdAt: 1_000, blocking: false)
        env.fromSource(source).map { $0 }.sink(CollectSink<Int>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.error is HealthCheckFailure)
        let described = error.map { String(describing: $0.cause.error) } ?? ""
        #expect(described.contains("health check failed"))
    }

    @Test(.timeLimit(.minutes(3))) func actionCheckpointTakesACheckpoint() async throws {
        let clock = ManualClock()
        let env = try env(
            "checkpointed", action: "checkpoint",
            faultTolerance: ["strategy": "checkpoint", "checkpoint_interval": 3600, "checkpoint_dir": .string(directory.path("chk"))], clock: clock)
        let source = HoldingSource(count: 2_000, holdAt: 1_000, blocking: false)
        env.fromSource(source).keyBy { $0 % 3 }.reduce(+).sink(CollectSink<Int>())
        let events = env.events()
        let job = Task { try await env.submit() }
        await source.reached.wait()
        // The clock never moves: no interval comes due; the health check starts the checkpoint.
        let complete = await self.await(.checkpointComplete, thenSamples: 0, in: events)
        #expect(complete != nil)
        source.release.open()
        let result = try await job.value
        #expect(result.checkpoints.count >= 2, "the health check's and the final one")
    }
}
