import Foundation

/// The job's clock for restart delays, failure windows and processing-time timers, erased so
/// that tests can inject a manual clock: `now` is the time since the job's clock was created.
final class JobClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void
    /// Where processing time starts: wall-clock time since 1970 on the default clock (so a
    /// processing-time timer checkpointed by one process fires at the same moment in the next),
    /// zero on an injected clock (a test's manual clock starts every run at zero).
    private let processingTimeOrigin: Duration

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        sleeper = { try await clock.sleep(for: $0) }
        if C.self == ContinuousClock.self || C.self == SuspendingClock.self {
            processingTimeOrigin = .milliseconds(Int64((Date().timeIntervalSince1970 * 1000).rounded()))
        } else {
            processingTimeOrigin = .zero
        }
    }

    var now: Duration { elapsed() }

    /// The job's processing time: what processing-time timers are registered against.
    var processingTime: Duration { processingTimeOrigin + elapsed() }

    /// Suspends for `duration` of this clock's time (throws `CancellationError` if the job stops).
    func sleep(for duration: Duration) async throws {
        try await sleeper(duration)
    }
}
