/// What an operator's supervisor does when the operator's code throws.
///
/// The environment's `fault_tolerance` sets the default for every operator; `supervised(_:)`
/// overrides it for one. A struct with static members, so policies can be added without
/// breaking code that uses them.
public struct SupervisionPolicy: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case restart(RestartStrategy)
        case failover(RestartStrategy)
        case resume
        case escalate
        case stop
        case restoreCheckpoint
    }

    let kind: Kind

    /// The restart strategy of a `restart` or `failover` policy.
    var restartStrategy: RestartStrategy? {
        switch kind {
        case .restart(let strategy), .failover(let strategy): strategy
        default: nil
        }
    }

    /// Whether the policy reroutes a failed instance's input to its siblings.
    var failsOver: Bool {
        if case .failover = kind { return true }
        return false
    }

    /// Replace the failed instance with a fresh one from its factory after the strategy's delay
    /// and retry the record that failed; keyed state is kept (a failed call never changed it).
    /// Past the strategy's limit the failure escalates to the job.
    public static func restart(_ strategy: RestartStrategy) -> SupervisionPolicy { SupervisionPolicy(kind: .restart(strategy)) }
    /// Replica takeover: like ``restart(_:)``, and while the failed instance waits for its
    /// restart and retries its record, the batches upstream would have sent it go to its
    /// healthy siblings instead; it takes its share again once its retried record went through.
    ///
    /// For a stateless operator with ``DataStream/parallelism(_:)`` above 1 (`map`, `filter`,
    /// `compactMap`, `flatMap`, `mapAsync`), whose records any instance may take; `submit()`
    /// rejects it on a source, a sink, an operator after `keyBy` or with two inputs, and one
    /// whose instances keep state (a ``CheckpointableOperator``, `withTimestamps`). Such an
    /// operator runs in instances of its own (never fused into the one before it) and gets its
    /// input round-robin by batch. Nothing is lost or duplicated: a batch goes to exactly one
    /// instance, checkpoint barriers to all of them. What the failed instance already had in its
    /// inbox waits for it (it is ordered with the barriers there), as does a checkpoint, whose
    /// barrier it must pass. With one instance there is no sibling: it is ``restart(_:)``.
    /// Each instance has its own pacing by `strategy` (a replica that keeps failing backs off
    /// alone); when every instance is down, upstream waits as under backpressure. Each takeover
    /// writes `FAILOVER_START` and `FAILOVER_END` events.
    public static func failover(_ strategy: RestartStrategy) -> SupervisionPolicy { SupervisionPolicy(kind: .failover(strategy)) }
    /// ``failover(_:)`` with exponential backoff from 10 ms to 1 s, at most 10 restarts in a row
    /// without a quiet period of 2 s: a replica that keeps failing is retried more and more
    /// rarely while its siblings carry the load, and one that never recovers fails the job
    /// (escalates) instead of holding its records forever.
    public static let failover = SupervisionPolicy.failover(
        .exponential(initialDelay: .milliseconds(10), maxDelay: .seconds(1), maxAttempts: 10))
    /// Skip the failing record: it goes to the job's dead letters with its error.
    public static let resume = SupervisionPolicy(kind: .resume)
    /// Hand the failure to the job at once (with checkpoints: a job-level recovery; without: the
    /// job fails).
    public static let escalate = SupervisionPolicy(kind: .escalate)
    /// Fail the job at once.
    public static let stop = SupervisionPolicy(kind: .stop)
    /// Restore the whole job from its latest checkpoint on any failure of this operator
    /// (escalates to the job; without checkpoints the job fails).
    public static let restoreCheckpoint = SupervisionPolicy(kind: .restoreCheckpoint)

    public var description: String {
        switch kind {
        case .restart(let strategy): "restart(\(strategy))"
        case .failover(let strategy): "failover(\(strategy))"
        case .resume: "resume"
        case .escalate: "escalate"
        case .stop: "stop"
        case .restoreCheckpoint: "restoreCheckpoint"
        }
    }
}
