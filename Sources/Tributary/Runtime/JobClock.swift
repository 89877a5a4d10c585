import Foundation

/// The job's clock for restart delays, failure windows and processing-time timers, erased so
/// that tests can inject a manual clock: `now` is the time since the job's clock was created.
final class JobClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void
    /// Sleeps until the clock has run this long since the job's clock was made.
    private let sleeperUntil: @Sendable (Duration) async throws -> Void
    /// Where processing time starts: wall-clock time since 1970 on the default clock (so a
    /// processing-time timer checkpointed by one process fires at the same moment in the next),
    /// zero on an injected clock (a test's manual clock starts every run at zero).
    private let processingTimeOrigin: Duration

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        elapsed = { start.duration(to: clock.now) }
        sleeper = { try await clock.sleep(for: $0) }
        sleeperUntil = { try await clock.sleep(until: start.advanced(by: $0), tolerance: nil) }
        if C.self == ContinuousClock.self || C.self == SuspendingClock.self {
            processingTimeOrigin = .milliseconds(Int64((Date().timeIntervalSince1970 * 1000).rounded()))
        } else {
            processingTimeOrigin = .zero
        }
    }

    var now: Duration { elapsed() }

    /// The job's processing time: what processing-time timers are registered against.
    var processingTime: Duration { processingTimeOrigin + elapsed() }

    /// Suspends until the job's processing time reaches `deadline`: an absolute deadline, so
    /// time that passes between reading the clock and starting to sleep is not added.
    func sleep(untilProcessingTime deadline: Duration) async throws {
        try await sleeperUntil(deadline - processingTimeOrigin)
    }

    /// Suspends for `duration` of this clock's time (throws `CancellationError` if the job stops).
    func sleep(for duration: Duration) async throws {
        try await sleeper(duration)
    }
}
