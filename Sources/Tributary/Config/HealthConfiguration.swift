/// `health`: thresholds checked at every metrics sample (`metrics_interval`). Crossing one
/// writes a `HEALTH_WARNING` event with the figure and, per ``action``, acts — once per
/// crossing: the check must come back under its threshold before it acts again.
///
/// | key | crosses when |
/// |---|---|
/// | `max_memory_percent` | the process's resident memory is more than this share of the machine's |
/// | `min_disk_free_mb` | less than this many MB are free where `work_dir` or `checkpoint_dir` is |
/// | `max_queue_fill_seconds` | an operator's input queue has been full (backpressure) this long |
/// | `max_cpu_percent` | the process used more CPU than this over the interval (100 = one core) |
public struct HealthConfiguration: Sendable, Hashable {
    /// `health.action`.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        /// Only the event [default].
        case warn
        /// The event, and a checkpoint now (with `strategy: "checkpoint"`).
        case checkpoint
        /// The event, and the job fails (a ``HealthCheckFailure``).
        case fail
    }

    public var maxMemoryPercent: Double?
    public var minDiskFreeMB: Double?
    public var maxQueueFillSeconds: Double?
    public var maxCPUPercent: Double?
    public var action: Action

    public init(
        maxMemoryPercent: Double? = nil, minDiskFreeMB: Double? = nil, maxQueueFillSeconds: Double? = nil, maxCPUPercent: Double? = nil,
        action: Action = .warn
    ) {
        self.maxMemoryPercent = maxMemoryPercent
        self.minDiskFreeMB = minDiskFreeMB
        self.maxQueueFillSeconds = maxQueueFillSeconds
        self.maxCPUPercent = maxCPUPercent
        self.action = action
    }

    /// Whether any threshold is set.
    public var checksAnything: Bool { maxMemoryPercent != nil || minDiskFreeMB != nil || maxQueueFillSeconds != nil || maxCPUPercent != nil }
}

/// A `health` threshold was crossed under `action: "fail"`: the job fails with this cause.
public struct HealthCheckFailure: Error, Sendable, CustomStringConvertible {
    /// What crossed, with the figure: "123 MB free where work_dir is, under min_disk_free_mb 500".
    public let reason: String
    public var description: String { "health check failed: \(reason)" }
}
