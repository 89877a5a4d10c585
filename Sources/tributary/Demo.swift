import Foundation
import Synchronization
import Tributary

/// `tributary demo`: a stateful pipeline over generated sensor readings, with a check of its
/// output against the same computation done by a plain loop.
enum Demo {
    struct Reading: Codable, Sendable {
        var index: Int
        var sensor: Int
        var celsius: Double
    }

    /// Per sensor: how many readings and their running mean.
    struct Summary: Codable, Sendable {
        var count = 0
        var mean = 0.0
    }

    static let sensors = 1_000

    static func reading(_ index: Int) -> Reading {
        // Deterministic pseudo-random temperatures; every 97th reading is a faulty sensor value.
        let noise = Double((index &* 2_654_435_761) % 1_000) / 100
        return Reading(index: index, sensor: index % sensors, celsius: index % 97 == 0 ? -999 : 15 + noise)
    }

    /// The decoder fails once on every `failureEvery`-th reading, as a flaky library would.
    static let failureEvery = 100_000

    struct StateStoreGlitch: Error, CustomStringConvertible {
        let reading: Int
        var description: String { "state store glitch on reading \(reading)" }
    }

    struct DecoderGlitch: Error, CustomStringConvertible {
        let reading: Int
        var description: String { "decoder glitch on reading \(reading)" }
    }

    static func run(records: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-demo-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alertsPath = directory.appendingPathComponent("alerts.txt").path

        let env = try LocalEnvironment("demo", config: [
            "metrics_interval": 1,
            "fault_tolerance": [
                "strategy": "checkpoint", "checkpoint_interval": 0.02, "checkpoint_dir": .string(directory.appendingPathComponent("checkpoints").path),
                "restart_strategy": "failure_rate", "max_failures_per_interval": 100, "interval_seconds": 1, "delay": 0.001,
            ],
        ])
        let summaries = CollectSink<(Int, Summary)>()
        let glitched = Mutex<Set<Int>>([])
        let jobFailureAt = records * 3 / 4 + 1
        let readings = env.fromSource(GeneratorSource(count: records) { index in (index, reading(index)) })
            .named("sensors")
            .map { (index: Int, reading: Reading) -> Reading in
                if index % failureEvery == failureEvery / 2, glitched.withLock({ $0.insert(index).inserted }) {
                    throw DecoderGlitch(reading: index)
                }
                return reading
            }
            .named("decode")
        let valid = readings.filter { $0.celsius > -100 }.named("drop-faulty")
        valid.keyBy { $0.sensor }
            .mapWithState(initial: Summary()) { (summary: inout Summary, reading: Reading) in
                if reading.index == jobFailureAt, glitched.withLock({ $0.insert(-reading.index).inserted }) {
                    throw StateStoreGlitch(reading: reading.index)
                }
                summary.count += 1
                summary.mean += (reading.celsius - summary.mean) / Double(summary.count)
                return (reading.sensor, summary)
            }
            .named("running-mean")
            .supervised(.restoreCheckpoint)
            .parallelism(2)
            .sink(summaries)
            .named("summaries")
        valid.filter { $0.celsius > 24.9 }.named("too-hot")
            .map { "sensor \($0.sensor): \(String(format: "%.2f", $0.celsius)) °C" }.named("format")
            .sink(FileSink(path: alertsPath)).named("alerts")

        let injected = (0..<records).filter { $0 % failureEvery == failureEvery / 2 }.count
        print("Tributary demo: \(records) generated sensor readings from \(sensors) sensors")
        print("  sensors → decode → drop-faulty ┬→ keyBy(sensor) → running-mean ×2 → summaries")
        print("                                 └→ too-hot → format → alerts (a file)")
        print("  fault tolerance: checkpoints every 20 ms; operators restart after 1 ms (failure_rate, ≤ 100/s);")
        print("                   'running-mean' asks for a checkpoint restore on failure (.restoreCheckpoint)")
        print("  injected: 'decode' throws once on every \(failureEvery)th reading (\(injected) operator failures),")
        print("            'running-mean' throws once on reading \(jobFailureAt) (a job-level failure)")
        print("")
        // A progress line each second, from the job's metrics samples (the last one is taken
        // as the job ends). Read counts include readings replayed after the restore.
        let samples = env.metrics()
        let progress = Task {
            var lines = 0
            for await sample in samples where sample.elapsedSeconds >= 0.5 && lines < 1_000 {
                guard let source = sample[operator: "sensors"], source.recordsOut < records || source.recordsOutPerSecond > 0 else { continue }
                lines += 1
                let read = min(source.recordsOut, records)
                print(
                    String(
                        format: "  %5.1f s  %@ of %@ readings (%.0f %%)  %.2f M/s  %d checkpoints  %d restarts, %d restores so far", sample.elapsedSeconds,
                        formatCount(read), formatCount(records), Double(read) / Double(max(records, 1)) * 100, source.recordsOutPerSecond / 1e6,
                        sample.checkpointsCompleted, sample.restarts, sample.recoveries - sample.restarts))
            }
        }
        let result = try await env.submit()
        _ = await progress.value
        let seconds = Double(result.wallTime.components.seconds) + Double(result.wallTime.components.attoseconds) / 1e18
        print("job \(result.jobID) \(result.status.rawValue) in \(String(format: "%.3f", seconds)) s — \(String(format: "%.1f", Double(records) / seconds / 1e6)) M readings/s")
        if !result.restarts.isEmpty {
            let latencies = result.recoveries.filter { $0.kind == .operatorRestart }.map { $0.latency.microseconds }.sorted()
            func percentile(_ p: Double) -> String {
                guard !latencies.isEmpty else { return "-" }
                return String(format: "%.0f µs", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))])
            }
            print("")
            print("what happened:")
            for restart in result.restarts.prefix(3) {
                print("  '\(restart.operatorName)' failed on record #\(restart.failure.recordIndex ?? -1) (\(restart.failure.error)) → restarted after \(String(format: "%.1f ms", restart.delay.microseconds / 1000)), record retried")
            }
            if result.restarts.count > 3 { print("  … \(result.restarts.count - 3) more") }
            print("  \(result.restarts.count) operator restarts; failure → record processed again: p50 \(percentile(0.5)), p99 \(percentile(0.99)), max \(percentile(1.0)) (restart delay included)")
        }
        for restore in result.recoveries where restore.kind == .checkpointRestore {
            print("  '\(restore.cause.operatorName)' failed (\(restore.cause.error)) → the job restored its latest checkpoint; records flowed again after \(String(format: "%.1f ms", restore.latency.microseconds / 1000))")
        }
        print("  \(result.checkpoints.count) checkpoints completed (last: chk-\(result.checkpoints.last.map { String($0.id) } ?? "-"), \(result.checkpoints.last.map { "\($0.bytes) bytes" } ?? "-"))")
        print("")
        print("operator        kind          ×   records in   records out   (including records replayed after the restore)")
        for metrics in result.operators {
            print(
                "\(metrics.name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(metrics.kind.padding(toLength: 13, withPad: " ", startingAt: 0)) \(metrics.parallelism)   \(String(metrics.recordsIn).leftPadded(10))   \(String(metrics.recordsOut).leftPadded(11))"
            )
        }

        // Check the output against a plain loop.
        var expected: [Int: Summary] = [:]
        var expectedAlerts = 0
        for index in 0..<records {
            let reading = reading(index)
            guard reading.celsius > -100 else { continue }
            var summary = expected[reading.sensor, default: Summary()]
            summary.count += 1
            summary.mean += (reading.celsius - summary.mean) / Double(summary.count)
            expected[reading.sensor] = summary
            if reading.celsius > 24.9 { expectedAlerts += 1 }
        }
        var latest: [Int: Summary] = [:]
        for (sensor, summary) in summaries.values { latest[sensor] = summary }
        let expectedValid = expected.values.reduce(0) { $0 + $1.count }
        let matches = summaries.values.count == expectedValid && latest.count == expected.count && expected.allSatisfy { sensor, summary in
            latest[sensor].map { $0.count == summary.count && abs($0.mean - summary.mean) < 1e-9 } ?? false
        }
        let alertLines = try String(contentsOfFile: alertsPath, encoding: .utf8).split(separator: "\n").count
        print("")
        print("check: despite \(result.restarts.count + result.recoveries.filter { $0.kind == .checkpointRestore }.count) failures, the sinks' committed output is exactly-once:")
        print("  \(summaries.values.count) running means committed (expected \(expectedValid)); the last of each of \(latest.count) sensors \(matches ? "equals" : "DIFFERS FROM") a failure-free plain loop's")
        print("  \(alertLines) alert lines in the file (expected \(expectedAlerts)), no duplicate, none missing")
        print("events: tributary events \(result.jobID)    summary: tributary job show \(result.jobID)")
        if !matches || alertLines != expectedAlerts {
            throw DemoError.outputMismatch
        }
    }

    /// `1.2 M`, `350 k`, `900`.
    static func formatCount(_ count: Int) -> String {
        count >= 1_000_000 ? String(format: "%.1f M", Double(count) / 1e6) : count >= 1_000 ? String(format: "%.0f k", Double(count) / 1e3) : String(count)
    }

    enum DemoError: Error, CustomStringConvertible {
        case outputMismatch
        var description: String { "the pipeline's output differs from the plain loop's" }
    }
}

extension Duration {
    var microseconds: Double { Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12 }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
