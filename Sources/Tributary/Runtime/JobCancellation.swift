/// Whether `error` is the job's own cancellation reaching an async call (an ``AsyncSink``'s
/// writer or commit, a `mapAsync` call) rather than a failure of that call: a
/// `CancellationError` while the task that made the call is cancelled. Such an error ends the
/// instance (or the run) as a stop: it never goes to a supervisor and is not a failure.
func isJobCancellation(_ error: any Error) -> Bool {
    error is CancellationError && Task.isCancelled
}
