import Foundation

/// One thing that happened in a job, as written to `events.jsonl` and `events.log` in the job
/// folder and delivered to ``LocalEnvironment/events()``.
public struct JobEvent: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The event's type, written as an upper-case name (`OPERATOR_RESTARTED`).
    public struct Kind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let jobStart = Kind(rawValue: "JOB_START")
        public static let jobComplete = Kind(rawValue: "JOB_COMPLETE")
        public static let jobFailed = Kind(rawValue: "JOB_FAILED")
        public static let jobCancelled = Kind(rawValue: "JOB_CANCELLED")
        /// ``LocalEnvironment/stop()`` ended the job with a final checkpoint.
        public static let jobStopped = Kind(rawValue: "JOB_STOPPED")
        public static let operatorFailed = Kind(rawValue: "OPERATOR_FAILED")
        public static let operatorRestarted = Kind(rawValue: "OPERATOR_RESTARTED")
        public static let recordSkipped = Kind(rawValue: "RECORD_SKIPPED")
        /// An instance of an operator supervised with failover failed: its siblings take its
        /// input until it is back (``SupervisionPolicy/failover(_:)``).
        public static let failoverStart = Kind(rawValue: "FAILOVER_START")
        /// The instance is back (its retried record went through) and takes its share again.
        public static let failoverEnd = Kind(rawValue: "FAILOVER_END")
        public static let failureEscalated = Kind(rawValue: "FAILURE_ESCALATED")
        public static let circuitOpened = Kind(rawValue: "CIRCUIT_OPENED")
        public static let circuitHalfOpen = Kind(rawValue: "CIRCUIT_HALF_OPEN")
        public static let circuitClosed = Kind(rawValue: "CIRCUIT_CLOSED")
        public static let warning = Kind(rawValue: "WARNING")
        /// The process's CPU, memory, open files and free disk, every `metrics_interval`.
        public static let resourceUsage = Kind(rawValue: "RESOURCE_USAGE")
        /// Each operator's rate and input queue, every `metrics_interval`.
        public static let performanceMetric = Kind(rawValue: "PERFORMANCE_METRIC")
        /// A `health` threshold was crossed: the figure, the threshold, and what was done.
        public static let healthWarning = Kind(rawValue: "HEALTH_WARNING")
        /// The `retention` policy removed job folders or checkpoints as this job ended.
        public static let retention = Kind(rawValue: "RETENTION")
        public static let checkpointStart = Kind(rawValue: "CHECKPOINT_START")
        public static let checkpointComplete = Kind(rawValue: "CHECKPOINT_COMPLETE")
        public static let checkpointFailed = Kind(rawValue: "CHECKPOINT_FAILED")
        /// A checkpoint found on disk was not usable (corrupt, partial) and was passed over.
        public static let checkpointSkipped = Kind(rawValue: "CHECKPOINT_SKIPPED")
        public static let recoveryStart = Kind(rawValue: "RECOVERY_START")
        public static let recoveryComplete = Kind(rawValue: "RECOVERY_COMPLETE")

        public var description: String { rawValue }
    }

    public let kind: Kind
    public let time: Date
    public let jobID: String
    public var operatorName: String?
    public var instance: Int?
    /// The operator's failure count (on failures) or restart attempt (on restarts).
    public var attempt: Int?
    /// The restart delay the strategy applied, in seconds.
    public var delaySeconds: Double?
    /// Failure to first record processed again, in seconds.
    public var latencySeconds: Double?
    public var recordIndex: Int?
    public var record: String?
    public var error: String?
    /// A sentence for people.
    public var message: String

    public init(kind: Kind, time: Date = Date(), jobID: String, operatorName: String? = nil, instance: Int? = nil, message: String) {
        self.kind = kind
        self.time = time
        self.jobID = jobID
        self.operatorName = operatorName
        self.instance = instance
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case kind = "event"
        case time = "timestamp"
        case jobID = "job_id"
        case operatorName = "operator"
        case instance, attempt
        case delaySeconds = "delay_seconds"
        case latencySeconds = "latency_seconds"
        case recordIndex = "record_index"
        case record, error, message
    }

    /// The line of `events.log`: time, event, operator, message.
    public var description: String {
        let operatorPart = operatorName.map { " [\($0)\(instance.map { $0 > 0 ? "#\($0)" : "" } ?? "")]" } ?? ""
        return "\(Self.timestampStyle.format(time)) \(kind.rawValue.padding(toLength: 19, withPad: " ", startingAt: 0))\(operatorPart) \(message)"
    }

    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestampStyle.format(date))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            do {
                return try timestampStyle.parse(text)
            } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 timestamp: \(text)"))
            }
        }
        return decoder
    }
}
