import Foundation

/// The typed configuration of a ``LocalEnvironment``: one source of truth for the dictionary
/// form (`LocalEnvironment(_:config:)`) and the JSON file form (``init(contentsOf:)``), both of
/// which are parsed into it by ``init(_:)``.
public struct EnvironmentConfiguration: Sendable, Hashable {
    /// `fault_tolerance` [absent: ``FaultToleranceConfiguration/absentDefault``].
    public var faultTolerance: FaultToleranceConfiguration
    /// `job_id`: resume that job, or start a new one under that id [a new id].
    public var jobID: String?
    /// `work_dir`: where job folders and event logs go [`.tributary`].
    public var workDirectory: String
    /// `batch_size`: records moved per batch between operators [1024]. Batches of about a
    /// thousand records amortise each hand-over between actors; much larger ones page-fault.
    public var batchSize: Int
    /// `batch_linger`: how long a source waits to fill a batch before sending a partial one
    /// [0.005 s].
    public var batchLinger: Duration
    /// `channel_capacity`: batches buffered on each edge before the producer is suspended
    /// (backpressure) [4].
    public var channelCapacity: Int
    /// `fault_injection`: faults to inject [none].
    public var faultInjections: [FaultInjection]
    /// `restart_completed`: submitting (from a new environment) the `job_id` of a job that
    /// already completed starts it
    /// over from nothing (its checkpoints are removed and its sinks' output replaced) instead of
    /// failing with `PipelineError.Code.jobAlreadyCompleted` [false].
    public var restartCompleted: Bool = false
    /// `split_chains`: with a core the plan leaves idle, a chain of operators that starts at a
    /// source runs as two instances (its halves on two cores) instead of one [true]. Measured:
    /// W0 (map, filter) 1.1-1.2 × on two cores, Nexmark q1 (a costly map) faster too; Nexmark
    /// q2, whose second half is a filter that drops 99 % of the records, 0.85 ×. Set it to
    /// `false` for such jobs, or to leave the other cores to the rest of the application.
    public var splitChains: Bool = true
    /// `print_warnings`: `WARNING` events (a source that cannot be replayed under checkpoints,
    /// a checkpoint restored into a changed pipeline, late records dropped) are also written to
    /// standard error as they happen, beside the job's event files and ``LocalEnvironment/onEvent(_:)``
    /// [true]; `false` leaves them to those.
    public var printWarnings: Bool = true
    /// `retention`: which job folders and checkpoints of the work directory a job removes when
    /// it ends [keep all] (see ``RetentionConfiguration``).
    public var retention = RetentionConfiguration()
    /// `metrics_interval`: how often the job's metrics are sampled — written to
    /// `work_dir/<job_id>/metrics.jsonl`, published on ``LocalEnvironment/metrics()`` and as
    /// `RESOURCE_USAGE` and `PERFORMANCE_METRIC` events; 0 turns them off [5 s].
    public var metricsInterval: Duration = .seconds(5)
    /// `health`: thresholds checked at each metrics sample, and what crossing one does [none]
    /// (see ``HealthConfiguration``).
    public var health = HealthConfiguration()

    public init(
        faultTolerance: FaultToleranceConfiguration = .absentDefault,
        jobID: String? = nil,
        workDirectory: String = ".tributary",
        batchSize: Int = 1024,
        batchLinger: Duration = .milliseconds(5),
        channelCapacity: Int = 4,
        faultInjections: [FaultInjection] = []
    ) {
        self.faultInjections = faultInjections
        self.faultTolerance = faultTolerance
        self.jobID = jobID
        self.workDirectory = workDirectory
        self.batchSize = batchSize
        self.batchLinger = batchLinger
        self.channelCapacity = channelCapacity
    }

    /// Parses and validates a configuration dictionary; every key, its type and default is in
    /// the README's configuration table.
    ///
    /// - Throws: ``ConfigurationError`` naming the key path, the value given and what is allowed.
    public init(_ dictionary: [String: ConfigValue]) throws(ConfigurationError) {
        self = try ConfigurationParser.parse(dictionary)
    }

    /// Loads the same keys as the dictionary form from a JSON file holding one object.
    ///
    /// - Throws: ``ConfigurationError`` with code `.unreadableFile` when the file cannot be read or
    ///   is not a JSON object, or the error of ``init(_:)`` for its contents.
    public init(contentsOf url: URL) throws(ConfigurationError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConfigurationError(
                code: .unreadableFile, keyPath: url.path, given: nil,
                allowed: "a readable JSON file (\(error.localizedDescription))")
        }
        let dictionary: [String: ConfigValue]
        do {
            dictionary = try JSONDecoder().decode([String: ConfigValue].self, from: data)
        } catch {
            throw ConfigurationError(
                code: .unreadableFile, keyPath: url.path, given: nil,
                allowed: "a JSON object of configuration keys (\(Self.describe(decodingError: error)))")
        }
        try self.init(dictionary)
    }

    private static func describe(decodingError error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
        }
        if case DecodingError.typeMismatch(_, let context) = error { return context.debugDescription }
        return "\(error)"
    }
}
