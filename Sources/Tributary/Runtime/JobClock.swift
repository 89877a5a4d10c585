/// The job's clock for restart delays and failure windows, erased so that tests can inject a
/// manual clock: `now` is the time since the job's clock was created.
final class JobClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        sleeper = { try await clock.sleep(for: $0) }
    }

    var now: Duration { elapsed() }

    /// Suspends for `duration` of this clock's time (throws `CancellationError` if the job stops).
    func sleep(for duration: Duration) async throws {
        try await sleeper(duration)
    }
}
