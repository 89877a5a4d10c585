import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Metrics: sampled every `metrics_interval` while the job runs and once as it ends; written
/// to `metrics.jsonl`, published on `env.metrics()`, reported as `RESOURCE_USAGE` and
/// `PERFORMANCE_METRIC` events, and the last one in the job's result, counting what the result
/// counts.
@Suite struct MetricsTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test func theIntervalIsParsed() throws {
        #expect(try EnvironmentConfiguration([:]).metricsInterval == .seconds(5))
        let off = try EnvironmentConfiguration(["metrics_interval": 0])
        #expect(off.metricsInterval == .zero)
        #expect(try EnvironmentConfiguration(off.dictionaryRepresentation) == off)
        #expect(#expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["metrics_interval": -1]) }?.code == .outOfRange)
    }

    /// The source holds after 3,000 of 5,000 records: samples taken meanwhile show 3,000 read
    /// and counted downstream; the last sample, as the job ends, shows the result's counts.
    @Test(.timeLimit(.minutes(3))) func samplesShowTheJobAsItRunsAndTheLastOneItsResult() async throws {
        let work = directory.path("work")
        let env = try LocalEnvironment("metered", config: ["work_dir": .string(work), "metrics_interval": 0.01, "batch_size": 100])
        let source = HoldingSource(count: 5_000, holdAt: 3_000, blocking: false)
        env.fromSource(source).named("numbers").map { $0 * 2 }.named("double").keyBy { $0 % 4 }.reduce(+).named("sum").sink(CollectSink<Int>())
            .named("out")
        let samples = env.metrics()
        let job = Task { try await env.submit() }
        await source.reached.wait()
        var held: JobMetrics?
        // Instances publish their counts after each batch, the source's after sending it: a
        // sample can see the keyed stage's count of a batch before the source's.
        for await sample in samples where sample[operator: "sum"]?.recordsIn == 3_000 && sample[operator: "numbers"]?.recordsOut == 3_000 {
            held = sample
            break
        }
        let running = try #require(held)
        #expect(running[operator: "numbers"]?.recordsOut == 3_000)
        #expect(running[operator: "double"]?.recordsIn == 3_000)
        #expect(running[operator: "sum"]?.queueCapacity ?? 0 > 0, "a keyed stage reads from an input queue")
        #expect((running[operator: "numbers"]?.batches ?? 0) >= 30, "batches of 100")
        #expect(running.process.residentBytes > 0)
        #expect(running.process.openFiles > 0)
        #expect(running.process.workDirFreeBytes != nil)
        source.release.open()
        let result = try await job.value
        let last = try #require(result.metrics)
        for op in result.operators {
            #expect(last[operator: op.name]?.recordsIn == op.recordsIn, "\(op.name)")
            #expect(last[operator: op.name]?.recordsOut == op.recordsOut, "\(op.name)")
        }
        #expect(last[operator: "sum"]?.recordsIn == 5_000)

        let folder = URL(fileURLWithPath: work).appendingPathComponent(env.jobID)
        let lines = try String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let decoded = try lines.map { try JobMetrics.decoder().decode(JobMetrics.self, from: Data($0.utf8)) }
        #expect(decoded.count >= 2)
        #expect(decoded.last?.operators == last.operators, "the file's last line is the result's sample")
        #expect(decoded.map(\.elapsedSeconds) == decoded.map(\.elapsedSeconds).sorted())
        let events = JobFolder.parseEvents(try String(contentsOf: folder.appendingPathComponent("events.jsonl"), encoding: .utf8))
        #expect(events.contains { $0.kind == .resourceUsage && $0.message.contains("open files") })
        #expect(events.contains { $0.kind == .performanceMetric && $0.message.contains("sum ") })
    }

    /// A restore starts a new attempt with new instances; the job's batches and times still
    /// count the attempts before it. The failure comes at record 990 of 1,000 with no
    /// checkpoint yet, so the second attempt reads all 1,000 again: 99 batches of 10 before the
    /// failure, 100 after.
    @Test(.timeLimit(.minutes(3))) func batchesAndTimesCountEveryAttempt() async throws {
        let env = try LocalEnvironment("attempts", config: [
            "work_dir": .string(directory.path("work")), "metrics_interval": 60, "batch_size": 10,
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_mode": "manual", "checkpoint_interval": 0,
                                "checkpoint_dir": .string(directory.path("chk")), "max_attempts": 0, "delay": 0],
            "fault_injection": ["operator": "double", "inject": "throw", "at_records": [990]],
        ])
        env.fromSource(GeneratorSource(count: 1_000) { $0 }).named("numbers").map { $0 * 2 }.named("double").sink(CollectSink<Int>()).named("out")
        let result = try await env.submit()
        #expect(result.recoveries.map(\.kind) == [.checkpointRestore])
        let numbers = try #require(result.metrics?[operator: "numbers"])
        #expect(numbers.batches >= 199, "both attempts' batches: \(numbers.batches)")
        #expect(numbers.busySeconds > 0)
    }

    @Test func withoutMetricsThereAreNone() async throws {
        let work = directory.path("work")
        let env = try LocalEnvironment("unmetered", config: ["work_dir": .string(work), "metrics_interval": 0])
        env.fromCollection(Array(0..<10)).map { $0 }.sink(CollectSink<Int>())
        let samples = env.metrics()
        let result = try await env.submit()
        #expect(result.metrics == nil)
        var count = 0
        for await _ in samples { count += 1 }
        #expect(count == 0, "the stream finishes with the run, empty")
        #expect(!FileManager.default.fileExists(atPath: URL(fileURLWithPath: work).appendingPathComponent(env.jobID).appendingPathComponent("metrics.jsonl").path))
    }

    /// A job for `tributary top` to watch, held halfway (at record 2,000 of 4,000) until the
    /// test opens `source.release`; its metrics are sampled every 50 ms.
    func startWatchedJob(_ jobID: String) async throws -> (source: HoldingSource, job: Task<JobResult, any Error>, samples: AsyncStream<JobMetrics>) {
        let env = try LocalEnvironment("watched", config: ["work_dir": .string(directory.path("work")), "metrics_interval": 0.05, "job_id": .string(jobID)])
        let source = HoldingSource(count: 4_000, holdAt: 2_000, blocking: false)
        env.fromSource(source).named("numbers").keyBy { $0 % 3 }.reduce(+).named("sum").sink(CollectSink<Int>())
        let samples = env.metrics()
        let job = Task { try await env.submit() }
        await source.reached.wait()
        return (source, job, samples)
    }

    /// `tributary top` follows a running job from its metrics until it ends, then exits 0.
    @Test(.timeLimit(.minutes(3))) func topFollowsARunningJobUntilItEnds() async throws {
        let work = directory.path("work")
        let (source, job, _) = try await startWatchedJob("watched-1")
        let top = try ChildProcess(executable: WatchdogTests.binary("tributary"), arguments: ["top", "watched-1", "--work-dir", work])
        var screen: [String] = []
        var sawRunning = false
        var lines = top.lines.makeAsyncIterator()
        while let line = await lines.next() {
            screen.append(line)
            if line.contains("watched-1 — running") {
                sawRunning = true
                break
            }
        }
        #expect(sawRunning, "\(screen)")
        source.release.open()
        _ = try await job.value
        while let line = await lines.next() { screen.append(line) }
        #expect(await top.waitForExit() == 0)
        let last = screen.lastIndex { $0.hasPrefix("tributary top — job watched-1") }.map { Array(screen[$0...]) } ?? []
        #expect(last.first?.contains("completed") == true, "the last screen: \(last)")
        #expect(last.contains { $0.hasPrefix("sum ") && $0.contains("4000") }, "the sum's records in: \(last)")

        let unknown = try ChildProcess(executable: WatchdogTests.binary("tributary"), arguments: ["top", "nobody", "--work-dir", work])
        _ = await unknown.text()
        #expect(await unknown.waitForExit() == 66)
    }

    static let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs tmux with `arguments` and returns what it printed.
    static func tmux(_ arguments: [String]) async throws -> String {
        let process = try ChildProcess(executable: URL(fileURLWithPath: tmux ?? "/usr/bin/tmux"), arguments: arguments)
        let text = await process.text()
        _ = await process.waitForExit()
        return text
    }

    /// `tributary top` in a real terminal (a tmux pane of 100 × 30), as a user runs it: it
    /// draws one screen in place (the terminal is cleared, not scrolled), redraws it as the job
    /// moves, shows the job's end and exits 0.
    @Test(.enabled(if: tmux != nil), .timeLimit(.minutes(3))) func topDrawsInPlaceInARealTerminal() async throws {
        let (source, job, samples) = try await startWatchedJob("watched-2")
        let session = "tributary-top-\(UUID().uuidString.prefix(8))"
        // The pane signals this tmux channel when `top` exited (`wait-for -S`; a signal before
        // the test waits is kept until it does).
        let exited = "\(session)-exited"
        let command = "'\(WatchdogTests.binary("tributary").path)' top watched-2 --work-dir '\(directory.path("work"))'; "
            + "echo \"top exited $?\"; tmux wait-for -S \(exited); sleep 60"
        _ = try await Self.tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "30", command])
        defer { Task { _ = try? await Self.tmux(["kill-session", "-t", session]) } }
        func pane() async throws -> String { try await Self.tmux(["capture-pane", "-p", "-t", session]) }

        // `top` redraws from the job's metrics: look at the pane after each sample the job takes.
        var running = ""
        for await _ in samples {
            running = try await pane()
            if running.contains("watched-2 — running") || running.contains("top exited") { break }
        }
        #expect(running.contains("watched-2 — running"), "\(running)")
        #expect(running.components(separatedBy: "tributary top — job watched-2").count == 2, "one screen, drawn in place:\n\(running)")
        #expect(running.split(separator: "\n").contains { $0.hasPrefix("sum ") }, "the operators' rows:\n\(running)")
        source.release.open()
        _ = try await job.value
        _ = try await Self.tmux(["wait-for", exited])
        let ended = try await pane()
        #expect(ended.contains("top exited 0"), "\(ended)")
        #expect(ended.components(separatedBy: "tributary top — job watched-2").count == 2, "still one screen:\n\(ended)")
        #expect(ended.contains("completed"), "the job's end:\n\(ended)")
        #expect(ended.split(separator: "\n").contains { $0.hasPrefix("sum ") && $0.contains("4000") }, "\(ended)")
    }
}
