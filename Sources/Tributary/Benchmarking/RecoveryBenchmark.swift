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
    public struct Run: Sendable {
        public let result: JobResult
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
        public let runs: [Run]

        /// Faults that ended in a recovery, over all runs (restarts and restores).
        public var recoveries: [Recovery] { runs.flatMap(\.result.recoveries) }
        public var exactlyOnce: Bool { runs.allSatisfy(\.exactlyOnce) }

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
        let (reference, referenceOutput) = try await runOnce(label: "reference", faults: [])
        var measured: [Run] = []
        for index in 0..<runs {
            let (result, output) = try await runOnce(label: "run-\(index)", faults: faults)
            let comparison = OutputComparison(expected: referenceOutput, actual: output, ordered: ordered)
            measured.append(Run(result: result, exactlyOnce: comparison.isExact, comparison: comparison))
        }
        return Report(name: name, reference: reference, runs: measured)
    }

    private func runOnce(label: String, faults: [FaultInjection]) async throws -> (JobResult, [String]) {
        var faultTolerance = faultTolerance
        let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent("\(name)-\(label)-\(UUID().uuidString)")
        if faultTolerance["checkpoint_dir"] == nil { faultTolerance["checkpoint_dir"] = .string(folder.appendingPathComponent("checkpoints").path) }
        var configuration = try EnvironmentConfiguration(["work_dir": .string(folder.appendingPathComponent("jobs").path), "fault_tolerance": .object(faultTolerance)])
        configuration.faultInjections = faults
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = try LocalEnvironment(name, configuration: configuration)
        let output = try build(environment)
        let result = try await environment.submit()
        return (result, try output())
    }
}
