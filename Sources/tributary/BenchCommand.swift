import Foundation
import Synchronization
import Tributary

/// `tributary bench`: recovery benchmarks of the built-in workload (W1: key = i % 10,000,
/// value × 2, a running sum per key), with operator restarts and with checkpoint restores.
enum BenchCommand {
    struct Scenario {
        let name: String
        let faultTolerance: [String: ConfigValue]
        let faults: [FaultInjection]
    }

    static func workload(records: Int) -> RecoveryBenchmark.Build {
        { env in
            let sink = CollectSink<String>()
            env.fromSource(GeneratorSource(count: records) { i in (i % 10_000, i) })
                .map { (key: Int, value: Int) -> (Int, Int) in (key, value &* 2) }.named("map")
                .keyBy { $0.0 }
                .mapWithState(initial: 0) { (sum: inout Int, record: (Int, Int)) in
                    sum &+= record.1
                    return "\(record.0):\(sum)"
                }.named("sum")
                .sink(sink)
            return { sink.values }
        }
    }

    /// Runs the scenarios; returns whether every run was exactly-once.
    static func run(quick: Bool, json: Bool, svgDirectory: String?) async throws -> Bool {
        let records = quick ? 200_000 : 1_000_000
        let runs = quick ? 1 : 3
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-bench-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: work) }
        let scenarios = [
            Scenario(
                name: "operator restarts", faultTolerance: ["strategy": "restart", "delay": 0, "max_attempts": 1_000_000],
                faults: [FaultInjection(operatorName: "map", kind: .throw, trigger: .everyRecords(records / 50))]),
            Scenario(
                name: "checkpoint restores",
                faultTolerance: ["strategy": "checkpoint", "checkpoint_interval": 0.02, "delay": 0, "max_attempts": 0, "max_recovery_attempts": 100],
                faults: [FaultInjection(operatorName: "sum", kind: .throw, trigger: .atRecords([records / 4, records / 2, records * 3 / 4]))]),
        ]
        func say(_ text: String) {
            guard !json else { return }
            print(text)
            fflush(nil)
        }
        say("tributary bench: W1 (\(records) records, 10,000 keys), \(runs) run\(runs == 1 ? "" : "s") per scenario after a run without faults")
        // Throughput without fault tolerance: the same workload under strategy "none".
        say("  running without fault tolerance…")
        let plain = try await RecoveryBenchmark(
            name: "no-fault-tolerance", faultTolerance: ["strategy": "none"], faults: [], runs: 1, workDirectory: work.path,
            build: workload(records: records)
        ).run()
        var reports: [(Scenario, RecoveryBenchmark.Report)] = []
        for scenario in scenarios {
            say("  running \(scenario.name)…")
            let benchmark = RecoveryBenchmark(
                name: scenario.name.replacingOccurrences(of: " ", with: "-"), faultTolerance: scenario.faultTolerance, faults: scenario.faults,
                runs: runs, workDirectory: work.path, build: workload(records: records))
            reports.append((scenario, try await benchmark.run()))
        }

        func ms(_ duration: Duration?) -> String { duration.map { String(format: "%.2f ms", $0.inSeconds * 1000) } ?? "-" }
        func rate(_ result: JobResult) -> Double { Double(records) / max(result.wallTime.inSeconds, 1e-9) }
        if json {
            var document: [String: Any] = ["records": records, "runs": runs, "records_per_second_without_fault_tolerance": rate(plain.reference)]
            document["scenarios"] = reports.map { scenario, report -> [String: Any] in
                let kind: Recovery.Kind = scenario.faultTolerance["strategy"] == "checkpoint" ? .checkpointRestore : .operatorRestart
                var entry: [String: Any] = [
                    "name": scenario.name, "recoveries": report.recoveries.count, "exactly_once": report.exactlyOnce,
                    "records_per_second_without_faults": rate(report.reference),
                    "records_per_second_with_faults": report.runs.map { rate($0.result) }.sorted()[report.runs.count / 2],
                ]
                for (label, percentile) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
                    entry["\(label)_ms"] = report.latency(kind, percentile: percentile).map { $0.inSeconds * 1000 }
                }
                let checkpoints = report.runs.flatMap(\.result.checkpoints)
                if !checkpoints.isEmpty {
                    entry["checkpoints"] = checkpoints.count
                    entry["checkpoint_p50_ms"] = checkpoints.map(\.duration.inSeconds).sorted()[checkpoints.count / 2] * 1000
                    entry["checkpoint_bytes"] = checkpoints.last?.bytes ?? 0
                }
                return entry
            }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("")
            print("scenario              recoveries   p50        p90        p99        max        records/s (no faults → faults)   checkpoints                  output")
            for (scenario, report) in reports {
                let kind: Recovery.Kind = scenario.faultTolerance["strategy"] == "checkpoint" ? .checkpointRestore : .operatorRestart
                let checkpoints = report.runs.flatMap(\.result.checkpoints)
                let checkpointText = checkpoints.isEmpty ? "-" : "\(checkpoints.count), p50 \(ms(checkpoints.map(\.duration).sorted()[checkpoints.count / 2])), \((checkpoints.last?.bytes ?? 0) / 1024) KiB"
                let withFaults = report.runs.map { rate($0.result) }.sorted()[report.runs.count / 2]
                print(
                    scenario.name.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + String(report.recoveries.count).padding(toLength: 13, withPad: " ", startingAt: 0)
                        + [0.5, 0.9, 0.99, 1.0].map { ms(report.latency(kind, percentile: $0)).padding(toLength: 11, withPad: " ", startingAt: 0) }.joined()
                        + String(format: "%.1f → %.1f M/s", rate(report.reference) / 1e6, withFaults / 1e6).padding(toLength: 33, withPad: " ", startingAt: 0)
                        + checkpointText.padding(toLength: 29, withPad: " ", startingAt: 0)
                        + (report.exactlyOnce ? "exactly-once ✓" : "NOT exactly-once ✗"))
            }
            print("")
            print(String(format: "throughput without fault tolerance (strategy \"none\"): %.1f M records/s; the scenarios' first column is the same workload under their fault tolerance without faults, then with faults", rate(plain.reference) / 1e6))
            print("Each scenario's output after its faults was compared record by record with the output of its run without faults.")
        }

        if let svgDirectory {
            try await writeCharts(to: URL(fileURLWithPath: svgDirectory), reports: reports, records: records, work: work)
            say("charts: \(svgDirectory)/recovery-latency.svg, \(svgDirectory)/throughput.svg")
        }
        return reports.allSatisfy { $0.1.exactlyOnce }
    }

    static func writeCharts(to folder: URL, reports: [(Scenario, RecoveryBenchmark.Report)], records: Int, work: URL) async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Latency distribution over every recovery.
        let bounds: [(Double, String)] = [(0.05, "<50µs"), (0.1, "<100µs"), (0.25, "<250µs"), (0.5, "<0.5ms"), (1, "<1ms"), (2.5, "<2.5ms"), (5, "<5ms"), (10, "<10ms"), (25, "<25ms"), (.infinity, "≥25ms")]
        let latencies = reports.flatMap { $0.1.recoveries.map { $0.latency.inSeconds * 1000 } }
        let buckets = bounds.enumerated().map { index, bound in
            (label: bound.1, value: Double(latencies.filter { $0 < bound.0 && (index == 0 || $0 >= bounds[index - 1].0) }.count))
        }
        try SVGChart(title: "Recovery latency (failure → first record processed again), \(latencies.count) recoveries")
            .bars(buckets, xLabel: "latency", yLabel: "recoveries")
            .write(to: folder.appendingPathComponent("recovery-latency.svg"), atomically: true, encoding: .utf8)

        // Throughput over time in one checkpointed run with failures, sampled every 10 ms.
        guard let scenario = reports.last?.0 else { return }
        var configuration = try EnvironmentConfiguration([
            "work_dir": .string(work.appendingPathComponent("timeline").path),
            "fault_tolerance": .object(scenario.faultTolerance.merging(["checkpoint_dir": .string(work.appendingPathComponent("timeline-chk").path)]) { $1 }),
        ])
        configuration.faultInjections = scenario.faults
        let env = try LocalEnvironment("timeline", configuration: configuration)
        let processed = Counter()
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: records * 4) { i in (i % 10_000, i) })
            .map { (key: Int, value: Int) -> (Int, Int) in (key, value &* 2) }.named("map")
            .keyBy { $0.0 }
            .mapWithState(initial: 0) { (sum: inout Int, record: (Int, Int)) -> Int in
                sum &+= record.1
                return sum
            }.named("sum")
            .filter { _ in processed.add() }
            .sink(sink)
        let start = Date()
        let job = Task { try await env.submit() }
        var samples: [(x: Double, y: Double)] = []
        var last = (time: 0.0, count: 0)
        while !job.isCancelled {
            try await Task.sleep(for: .milliseconds(10))
            let now = Date().timeIntervalSince(start)
            let count = processed.value
            samples.append((now, Double(count - last.count) / max(now - last.time, 1e-6) / 1e6))
            last = (now, count)
            if count >= records * 4 { break }
            if now > 60 { break }
        }
        let result = try await job.value
        let marks = result.recoveries.map { $0.cause.time.timeIntervalSince(start) }
        try SVGChart(title: "Throughput over time (M records/s), failures in red — \(result.recoveries.count) checkpoint restores")
            .line(samples, marks: marks, xLabel: "seconds since start", yLabel: "M records/s")
            .write(to: folder.appendingPathComponent("throughput.svg"), atomically: true, encoding: .utf8)
    }

    /// Counts records passing through, for the throughput samples.
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
        func add() -> Bool {
            count.add(1, ordering: .relaxed)
            return true
        }
    }
}

extension Duration {
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
