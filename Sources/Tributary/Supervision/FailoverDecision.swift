/// What a job does about one failure, as decided by the classifier given to
/// ``LocalEnvironment/onFailure(_:)``.
public struct FailoverDecision: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case normal, restartOperator, restartJob, skipRecord, abort
    }

    let kind: Kind

    /// Apply the operator's ``SupervisionPolicy`` as if no classifier were set.
    public static let normal = FailoverDecision(kind: .normal)
    /// Restart the operator and retry the record now, whatever its restart strategy's limit.
    public static let restartOperator = FailoverDecision(kind: .restartOperator)
    /// Escalate to the job: restore from the latest checkpoint (without checkpoints, the job fails).
    public static let restartJob = FailoverDecision(kind: .restartJob)
    /// Skip the record into the dead letters.
    public static let skipRecord = FailoverDecision(kind: .skipRecord)
    /// Fail the job at once, with this failure as the cause.
    public static let abort = FailoverDecision(kind: .abort)

    public var description: String {
        switch kind {
        case .normal: "normal"
        case .restartOperator: "restartOperator"
        case .restartJob: "restartJob"
        case .skipRecord: "skipRecord"
        case .abort: "abort"
        }
    }
}

/// What a failure classifier is told about one failure.
public struct FailureInfo: Sendable {
    /// The failure: operator, instance, record, error, time.
    public let failure: OperatorFailure
    /// The operator's failures so far, this one included (1 for its first).
    public let attempt: Int
    /// Every failure of the job so far, oldest first, this one last.
    public let history: [OperatorFailure]

    public var error: any Error { failure.error }
    public var operatorName: String { failure.operatorName }
}

/// An error that no retry can fix (bad credentials, a schema mismatch): the job fails at once,
/// without burning restart attempts, whatever the policy.
public protocol UnrecoverableError: Error {}
