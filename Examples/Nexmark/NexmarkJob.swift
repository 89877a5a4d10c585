import Foundation
import Tributary

/// One run of a Nexmark query: events from a file or the in-process generator, the query, and
/// its result written to `<out>/<query>.csv` — the final rows, sorted bytewise, one per line.
///
/// The rows go through an exactly-once ``FileSink`` first: with a checkpoint interval, a run
/// that fails over (or a process killed and started again with the same job id) still writes
/// every row once. The CSV is written from them, atomically, when the job completes.
public struct NexmarkJob: Sendable {
    public enum Input: Sendable {
        /// Nexmark events in JSON lines (see `../shared/nexmark/README.md`).
        case file(String)
        /// `count` events from the generator.
        case generated(count: Int, EventGenerator)
    }

    public let query: Query
    public let input: Input
    public let outDirectory: String
    /// Seconds between checkpoints; `nil`: no checkpoints.
    public let checkpointInterval: Double?
    /// A fixed job id resumes a job that was stopped or killed; by default each run is new.
    public let jobID: String?
    /// Extra configuration (e.g. `work_dir`, `fault_injection`), merged over the run's own.
    public let configuration: [String: ConfigValue]

    public init(
        query: Query, input: Input, outDirectory: String, checkpointInterval: Double? = nil, jobID: String? = nil,
        configuration: [String: ConfigValue] = [:]
    ) {
        self.query = query
        self.input = input
        self.outDirectory = outDirectory
        self.checkpointInterval = checkpointInterval
        self.jobID = jobID
        self.configuration = configuration
    }

    public struct Report: Sendable {
        public let query: Query
        public let result: JobResult
        /// Events the source read.
        public let events: Int
        public let rows: Int
        /// Where the sorted rows are.
        public let csvPath: String

        public var eventsPerSecond: Double {
            let seconds = Double(result.wallTime.components.seconds) + Double(result.wallTime.components.attoseconds) / 1e18
            return Double(events) / max(seconds, 1e-9)
        }
    }

    /// Runs the query to the end of its input and writes the CSV.
    /// - Throws: the job's error (``JobFailedError`` when it failed, ``PipelineError`` or
    ///   ``ConfigurationError`` for bad settings), or the file system's when the output cannot
    ///   be written.
    public func run() async throws -> Report {
        try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        let rowsPath = (outDirectory as NSString).appendingPathComponent(".\(query).rows")
        let csvPath = (outDirectory as NSString).appendingPathComponent("\(query).csv")
        // A new job starts from no rows; a resumed one keeps what its checkpoints committed.
        if jobID == nil { try? FileManager.default.removeItem(atPath: rowsPath) }
        var config: [String: ConfigValue] = ["batch_size": 1024]
        if let checkpointInterval {
            config["fault_tolerance"] = .object([
                "strategy": "checkpoint", "checkpoint_interval": .double(checkpointInterval),
                "checkpoint_dir": .string((outDirectory as NSString).appendingPathComponent(".checkpoints")),
                "max_recovery_attempts": 100,
            ])
        }
        if let jobID { config["job_id"] = .string(jobID) }
        for (key, value) in configuration { config[key] = value }
        let env = try LocalEnvironment("nexmark-\(query)", config: config)
        let events: DataStream<Event>
        switch input {
        case .file(let path): events = env.fromSource(EventFileSource(path: path)).named("events")
        case .generated(let count, let generator): events = env.fromSource(GeneratorSource(count: count) { generator.event(at: $0) }).named("events")
        }
        query.build(Query.timestamped(events)).sink(FileSink(path: rowsPath)).named("rows")
        let result = try await env.submit()
        guard result.status == .completed else {
            throw NexmarkJobStopped(query: query, status: result.status)
        }
        let text = try String(contentsOfFile: rowsPath, encoding: .utf8)
        var rows = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        rows.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var csv = rows.joined(separator: "\n")
        if !rows.isEmpty { csv += "\n" }
        try Data(csv.utf8).write(to: URL(fileURLWithPath: csvPath), options: .atomic)
        try? FileManager.default.removeItem(atPath: rowsPath)
        return Report(query: query, result: result, events: result[operator: "events"]?.recordsOut ?? 0, rows: rows.count, csvPath: csvPath)
    }
}

/// The job ended without completing (stopped or cancelled): its result is not final, so no
/// CSV is written.
public struct NexmarkJobStopped: Error, Sendable, CustomStringConvertible {
    public let query: Query
    public let status: JobResult.Status
    public var description: String { "the \(query) job ended \(status.rawValue); no result was written (run it again with the same job id to resume)" }
}
