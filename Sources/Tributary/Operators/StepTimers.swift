/// The timers of one operator instance, as the instance loop sees them: when the next
/// processing-time timer is due, and how to fire the due ones.
@usableFromInline
struct StepTimers {
    /// The earliest pending processing-time timer.
    @usableFromInline let nextProcessingTime: () -> Duration?
    /// Fires, in order, every processing-time timer due at `now` (the job's processing time);
    /// their output goes to the step's output buffer. A handler that throws leaves its timer
    /// pending and the key's state as it was.
    @usableFromInline let fire: (_ now: Duration) -> StepOutcome
    /// Drops the timer whose handler failed last (its supervisor skips it).
    @usableFromInline let dropFailed: () -> Void

    @usableFromInline
    init(nextProcessingTime: @escaping () -> Duration?, fire: @escaping (Duration) -> StepOutcome, dropFailed: @escaping () -> Void) {
        self.nextProcessingTime = nextProcessingTime
        self.fire = fire
        self.dropFailed = dropFailed
    }
}
