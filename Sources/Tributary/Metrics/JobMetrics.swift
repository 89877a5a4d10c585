import Foundation

/// One sample of a running job's metrics: per operator its records and rates, how busy its
/// instances were and how long they spent handing batches downstream (backpressure), its input
/// queue; the job's checkpoints, restarts and recoveries; the process's CPU, memory, open files
/// and free disk. Taken every `metrics_interval`, and once more when the job ends.
///
/// Written as one JSON object per line to `work_dir/<job_id>/metrics.jsonl` (the field names
/// below, in snake case), published on ``LocalEnvironment/metrics()``, and the last one is
/// ``JobResult/metrics``.
public struct JobMetrics: Sendable, Codable, Equatable {
    public struct Operator: Sendable, Codable, Equatable {
        public let name: String
        public let parallelism: Int
        /// Records that reached the operator (for a source: 0), over the job's attempts.
        public let recordsIn: Int
        /// Records it emitted (for a source: the records read).
        public let recordsOut: Int
        /// Rates over the interval since the previous sample.
        public let recordsInPerSecond: Double
        public let recordsOutPerSecond: Double
        /// Batches its instances processed, over the job's attempts.
        public let batches: Int
        /// Seconds its instances spent processing batches (summed over instances), over the
        /// job's attempts.
        public let busySeconds: Double
        /// Seconds its instances spent handing batches downstream — waiting on a full
        /// downstream queue (backpressure) and the hand-over itself — over the job's attempts.
        public let backpressureSeconds: Double
        /// Batches waiting in its instances' input queues now, and how many fit.
        public let queuedBatches: Int
        public let queueCapacity: Int

        enum CodingKeys: String, CodingKey {
            case name, parallelism, batches
            case recordsIn = "records_in"
            case recordsOut = "records_out"
            case recordsInPerSecond = "records_in_per_second"
            case recordsOutPerSecond = "records_out_per_second"
            case busySeconds = "busy_seconds"
            case backpressureSeconds = "backpressure_seconds"
            case queuedBatches = "queued_batches"
            case queueCapacity = "queue_capacity"
        }

        /// How full its input queues are, 0...1 (0 for a source).
        public var queueFill: Double { queueCapacity == 0 ? 0 : Double(queuedBatches) / Double(queueCapacity) }
    }

    /// The process the job runs in.
    public struct Process: Sendable, Codable, Equatable {
        /// CPU time used over the interval, in percent of one core (200 % = two cores busy).
        public let cpuPercent: Double
        public let residentBytes: Int
        public let openFiles: Int
        /// Free space where the job folders and the checkpoints are written, in bytes (`nil`:
        /// not known).
        public let workDirFreeBytes: Int?
        public let checkpointDirFreeBytes: Int?

        enum CodingKeys: String, CodingKey {
            case cpuPercent = "cpu_percent"
            case residentBytes = "resident_bytes"
            case openFiles = "open_files"
            case workDirFreeBytes = "work_dir_free_bytes"
            case checkpointDirFreeBytes = "checkpoint_dir_free_bytes"
        }
    }

    public let jobID: String
    public let time: Date
    /// Seconds since the job started.
    public let elapsedSeconds: Double
    public let operators: [Operator]
    public let checkpointsCompleted: Int
    public let checkpointsFailed: Int
    public let restarts: Int
    public let recoveries: Int
    public let deadLetters: Int
    public let process: Process

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id"
        case time, operators, restarts, recoveries, process
        case elapsedSeconds = "elapsed_seconds"
        case checkpointsCompleted = "checkpoints_completed"
        case checkpointsFailed = "checkpoints_failed"
        case deadLetters = "dead_letters"
    }

    /// The metrics of the operator `name`.
    public subscript(operator name: String) -> Operator? { operators.first { $0.name == name } }

    /// The encoder of `metrics.jsonl`: snake-case keys, ISO 8601 times with fractions.
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(JobEvent.timestampStyle.format(date))
        }
        return encoder
    }

    /// The decoder of `metrics.jsonl` lines.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try JobEvent.timestampStyle.parse(text)
        }
        return decoder
    }
}
