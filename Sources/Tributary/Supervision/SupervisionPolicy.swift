/// What an operator's supervisor does when the operator's code throws.
///
/// The environment's `fault_tolerance` sets the default for every operator; `supervised(_:)`
/// overrides it for one. A struct with static members, so policies can be added without
/// breaking code that uses them.
public struct SupervisionPolicy: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case restart(RestartStrategy)
        case resume
        case escalate
        case stop
        case restoreCheckpoint
    }

    let kind: Kind

    /// Replace the failed instance with a fresh one from its factory after the strategy's delay
    /// and retry the record that failed; keyed state is kept (a failed call never changed it).
    /// Past the strategy's limit the failure escalates to the job.
    public static func restart(_ strategy: RestartStrategy) -> SupervisionPolicy { SupervisionPolicy(kind: .restart(strategy)) }
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
        case .resume: "resume"
        case .escalate: "escalate"
        case .stop: "stop"
        case .restoreCheckpoint: "restoreCheckpoint"
        }
    }
}
