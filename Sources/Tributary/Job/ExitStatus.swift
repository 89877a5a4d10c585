/// The exit statuses Tributary's tools use (those of BSD's `sysexits.h`), and that a program
/// running a job should use, so that `tributary supervise` (``ProcessWatchdog``) and scripts
/// can tell an ending a restart may fix from one it cannot.
///
/// ```swift
/// do {
///     try await env.submit()
/// } catch {
///     FileHandle.standardError.write(Data("\(error)\n".utf8))
///     exit(ExitStatus.for(error))
/// }
/// ```
public enum ExitStatus {
    /// Done.
    public static let success: Int32 = 0
    /// The job or command failed; running it again may succeed.
    public static let failure: Int32 = 1
    /// The command was called wrongly: an unknown option, a missing argument (`EX_USAGE`).
    public static let usage: Int32 = 64
    /// What the command was asked about does not exist: a job id, a file (`EX_NOINPUT`).
    public static let notFound: Int32 = 66
    /// Something else holds what the job needs — another process runs it — and a later try
    /// may succeed (`EX_TEMPFAIL`).
    public static let temporaryFailure: Int32 = 75
    /// The configuration or the pipeline is wrong (`EX_CONFIG`): every run fails the same way
    /// until someone changes it.
    public static let configuration: Int32 = 78

    /// The records are wrong in a way no restart changes (`EX_DATAERR`).
    public static let dataError: Int32 = 65

    /// The status for a program whose job ended with `error`:
    /// - ``success`` for a ``PipelineError`` saying the job already completed (nothing to do);
    /// - ``configuration`` for a ``ConfigurationError``, any other ``PipelineError``, and a
    ///   job that failed because its checkpoint does not fit the pipeline
    ///   (``CheckpointStateMismatchError``);
    /// - ``dataError`` for a job that failed on an ``UnrecoverableError``;
    /// - ``temporaryFailure`` for a ``JobLockedError``; ``failure`` otherwise.
    public static func `for`(_ error: any Error) -> Int32 {
        switch error {
        case let pipeline as PipelineError where pipeline.code == .jobAlreadyCompleted: success
        case is ConfigurationError, is PipelineError: configuration
        case is JobLockedError: temporaryFailure
        case let failed as JobFailedError:
            switch failed.cause.error {
            case is CheckpointStateMismatchError, is ConfigurationError: configuration
            case is any UnrecoverableError: dataError
            default: failure
            }
        default: failure
        }
    }

    /// Whether a process that exited with `status` ended in a way no restart can fix: a usage,
    /// data, input or configuration error (`sysexits.h` 64–78, but for a temporary failure).
    public static func isPermanent(_ status: Int32) -> Bool {
        (64...78).contains(status) && status != temporaryFailure
    }

    /// What `status` means, for messages.
    public static func describe(_ status: Int32) -> String {
        switch status {
        case success: "success"
        case failure: "a failure"
        case usage: "a usage error"
        case dataError: "a data error"
        case notFound: "input not found"
        case temporaryFailure: "a temporary failure"
        case configuration: "a configuration error"
        default: "status \(status)"
        }
    }
}
