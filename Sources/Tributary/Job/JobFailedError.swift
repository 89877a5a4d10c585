/// A job stopped because a failure could not be recovered from.
///
/// Carries the ``JobResult`` up to the failure (status `.failed`), the failure that ended the
/// job, and every failure the job saw before it, oldest first.
public struct JobFailedError: Error, Sendable, CustomStringConvertible {
    public let result: JobResult
    /// The failure that ended the job.
    public let cause: OperatorFailure
    /// Every failure of the run, oldest first; the last one is `cause`.
    public let history: [OperatorFailure]

    public init(result: JobResult, cause: OperatorFailure, history: [OperatorFailure]) {
        self.result = result
        self.cause = cause
        self.history = history
    }

    public var description: String {
        "job '\(result.jobID)' failed: \(cause)"
    }
}
