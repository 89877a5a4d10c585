import Foundation

/// Measures how fast *your* pipeline recovers: runs it once without faults (the reference
/// output and throughput), then `runs` times with the faults you plan (``FaultInjection``
/// rules), and reports recovery latencies, checkpoints, throughput with and without faults,
/// and whether the output after the faults is exactly the reference output.
///
/// ```swift
/// let benchmark = RecoveryBenchmark(
///     name: "orders",
///     faultTolerance: ["strategy": "checkpoint", "checkpoint_interval": 0.1],
///     faults: [FaultInjection(operatorName: "parse", kind: .throw, trigger: .everyRecords(50_000))]
/// ) { env in
///     let sink = CollectSink<String>()
///     env.fromSource(FileSource(path: "orders.csv")).map(parse).named("parse").sink(sink)
///     return { sink.values }          // the committed output, read after the run
/// }
/// let report = try await benchmark.run()
/// print(report)
/// ```
public struct RecoveryBenchmark: Sendable {
    /// Builds the pipeline on `environment` and returns how to read its committed output after
    /// the run (one line per record).
    public typealias Build = @Sendable (_ environment: LocalEnvironment) throws -> @Sendable () throws -> [String]

    public let name: String
    public let faultTolerance: [String: ConfigValue]
    public let faults: [FaultInjection]
    public let runs: Int
    /// Whether output order matters; when `false` outputs are compared as multisets (parallel
    /// sinks interleave).
    public let ordered: Bool
    public let workDirectory: String
    let build: Build

    public init(
        name: String, faultTolerance: [String: ConfigValue], faults: [FaultInjection], runs: Int = 3, ordered: Bool = false,
        workDirectory: String = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-recovery-benchmark").path,
        build: @escaping Build
    ) {
        self.name = name
        self.faultTolerance = faultTolerance
        self.faults = faults
        self.runs = runs
        self.ordered = ordered
        self.workDirectory = workDirectory
        self.build = build
    }

    /// One measured run with faults.
    /// A run over time: the sources' records per second at each metrics sample, and when
    /// failures happened and checkpoints completed (seconds since the run started).
    public struct Timeline: Sendable {
        public struct Point: Sendable {
            public let seconds: Double
            public let recordsPerSecond: Double
        }

        public let throughput: [Point]
        public let failures: [Double]
        public let checkpoints: [Double]
    }

    public struct Run: Sendable {
        public let result: JobResult
        public let timeline: Timeline
        public let exactlyOnce: Bool
        /// How the output differs from the reference: missing, duplicated, changed and
        /// unexpected records.
        public let comparison: OutputComparison
        /// ``comparison`` in words, a few examples of each difference.
        public var differences: [String] { comparison.summary }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public let name: String
        public let reference: JobResult
        /// The run without faults over time: the baseline of the throughput chart.
        public let referenceTimeline: Timeline
        public let runs: [Run]

        /// Faults that ended in a recovery, over all runs (restarts and restores).
        public var recoveries: [Recovery] { runs.flatMap(\.result.recoveries) }
        public var exactlyOnce: Bool { runs.allSatisfy(\.exactlyOnce) }

        /// Writes two SVG charts into `folder` (created if needed), as `tributary bench --svg`
        /// draws them for its own workload: `recovery-latency.svg`, how many recoveries took
        /// how long, restarts and restores side by side; `throughput.svg`, the first faulty
        /// run's records per second over time (blue) on the run without faults (grey), with its
        /// failures (red) and completed checkpoints (green) marked. Returns their paths.
        /// - Throws: the file system's error when the folder or a file cannot be written.
        @discardableResult
        public func writeCharts(to folder: URL) throws -> [URL] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let bounds: [(Double, String)] = [
                (0.05, "<50µs"), (0.1, "<100µs"), (0.25, "<250µs"), (0.5, "<0.5ms"), (1, "<1ms"), (2.5, "<2.5ms"), (5, "<5ms"), (10, "<10ms"),
                (25, "<25ms"), (100, "<100ms"), (.infinity, "≥100ms"),
            ]
            var buckets: [(label: String, value: Double)] = []
            for kind in [Recovery.Kind.operatorRestart, .checkpointRestore] {
                let latencies = recoveries.filter { $0.kind == kind }.map { $0.latency.seconds * 1000 }
                guard !latencies.isEmpty else { continue }
                let tag = kind == .operatorRestart ? "restart" : "restore"
                for (index, bound) in bounds.enumerated() {
                    let count = latencies.filter { $0 < bound.0 && (index == 0 || $0 >= bounds[index - 1].0) }.count
                    if count > 0 { buckets.append((label: "\(tag) \(bound.1)", value: Double(count))) }
                }
            }
            let latency = folder.appendingPathComponent("recovery-latency.svg")
            try SVGChart(title: "'\(name)': recovery latency (failure → first record processed again), \(recoveries.count) recoveries")
                .bars(buckets, xLabel: "latency, by kind of recovery", yLabel: "recoveries")
                .write(to: latency, atomically: true, encoding: .utf8)
            let throughput = folder.appendingPathComponent("throughput.svg")
            let run = runs.first
            try SVGChart(title: "'\(name)': records/s over time — with faults (blue), without (grey); failures red, checkpoints green")
                .line(
                    (run?.timeline.throughput ?? []).map { ($0.seconds, $0.recordsPerSecond) }, marks: run?.timeline.failures ?? [],
                    xLabel: "seconds since the run started", yLabel: "records/s",
                    baseline: referenceTimeline.throughput.map { ($0.seconds, $0.recordsPerSecond) }, greenMarks: run?.timeline.checkpoints ?? [])
                .write(to: throughput, atomically: true, encoding: .utf8)
            return [latency, throughput]
        }

        /// Latency percentile (0...1) of one kind of recovery, `nil` when there was none.
        public func latency(_ kind: Recovery.Kind, percentile: Double) -> Duration? {
            let sorted = recoveries.filter { $0.kind == kind }.map(\.latency).sorted()
            guard !sorted.isEmpty else { return nil }
            return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * percentile).rounded(.up)) - 1))]
        }

        public var description: String {
            func ms(_ duration: Duration?) -> String { duration.map { String(format: "%.2f ms", $0.seconds * 1000) } ?? "-" }
            var lines = ["recovery benchmark '\(name)': \(runs.count) runs with faults, 1 without"]
            lines.append(String(format: "  wall time without faults %.3f s; with faults (median) %.3f s", reference.wallTime.seconds, runs.map(\.result.wallTime.seconds).sorted()[runs.count / 2]))
            for kind in [Recovery.Kind.operatorRestart, .checkpointRestore] {
                let count = recoveries.filter { $0.kind == kind }.count
                guard count > 0 else { continue }
                lines.append("  \(kind): \(count) recoveries; p50 \(ms(latency(kind, percentile: 0.5))), p90 \(ms(latency(kind, percentile: 0.9))), p99 \(ms(latency(kind, percentile: 0.99))), max \(ms(latency(kind, percentile: 1)))")
            }
            let checkpoints = runs.flatMap(\.result.checkpoints)
            if !checkpoints.isEmpty {
                let durations = checkpoints.map(\.duration).sorted()
                lines.append("  checkpoints: \(checkpoints.count), duration p50 \(ms(durations[durations.count / 2])), last size \(checkpoints.last?.bytes ?? 0) bytes")
            }
            lines.append(exactlyOnce
                ? "  output after the faults: exactly-once (equals the output of the run without faults)"
                : "  output after the faults: NOT exactly-once — " + (runs.first { !$0.exactlyOnce }?.differences.joined(separator: "; ") ?? ""))
            return lines.joined(separator: "\n")
        }
    }

    /// Runs the pipeline once without faults (the reference), then `runs` times with them.
    /// - Throws: ``ConfigurationError`` when `runs` is below 1; the pipeline's error when a run
    ///   fails.
    public func run() async throws -> Report {
        guard runs >= 1 else {
            throw ConfigurationError(code: .outOfRange, keyPath: "RecoveryBenchmark(runs:)", given: "\(runs)", allowed: "1 or more")
        }
        let (reference, referenceTimeline, referenceOutput) = try await runOnce(label: "reference", faults: [])
        var measured: [Run] = []
        for index in 0..<runs {
            let (result, timeline, output) = try await runOnce(label: "run-\(index)", faults: faults)
            let comparison = OutputComparison(expected: referenceOutput, actual: output, ordered: ordered)
            measured.append(Run(result: result, timeline: timeline, exactlyOnce: comparison.isExact, comparison: comparison))
        }
        return Report(name: name, reference: reference, referenceTimeline: referenceTimeline, runs: measured)
    }

    /// How often a run's throughput is sampled.
    static let samplingInterval: Duration = .milliseconds(20)

    private func runOnce(label: String, faults: [FaultInjection]) async throws -> (JobResult, Timeline, [String]) {
        var faultTolerance = faultTolerance
        let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent("\(name)-\(label)-\(UUID().uuidString)")
        if faultTolerance["checkpoint_dir"] == nil { faultTolerance["checkpoint_dir"] = .string(folder.appendingPathComponent("checkpoints").path) }
        var configuration = try EnvironmentConfiguration(["work_dir": .string(folder.appendingPathComponent("jobs").path), "fault_tolerance": .object(faultTolerance)])
        configuration.faultInjections = faults
        configuration.metricsInterval = Self.samplingInterval
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = try LocalEnvironment(name, configuration: configuration)
        let output = try build(environment)
        let samples = environment.metrics()
        let events = environment.events()
        let collecting = Task {
            var collected: [JobMetrics] = []
            for await sample in samples { collected.append(sample) }
            return collected
        }
        let watching = Task {
            var checkpoints: [Date] = []
            for await event in events where event.kind == .checkpointComplete { checkpoints.append(event.time) }
            return checkpoints
        }
        let started = Date()
        let result = try await environment.submit()
        let sources = Set(result.operators.filter { $0.kind == "source" }.map(\.name))
        let throughput = await collecting.value.map { sample in
            Timeline.Point(
                seconds: sample.elapsedSeconds,
                recordsPerSecond: sample.operators.filter { sources.contains($0.name) }.reduce(0) { $0 + $1.recordsOutPerSecond })
        }
        let timeline = Timeline(
            throughput: throughput, failures: result.recoveries.map { $0.cause.time.timeIntervalSince(started) },
            checkpoints: await watching.value.map { $0.timeIntervalSince(started) })
        return (result, timeline, try output())
    }
}
