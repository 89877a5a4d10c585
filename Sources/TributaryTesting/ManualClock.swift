import Synchronization

/// A clock that moves only when a test calls ``advance(by:)``: restart delays, backoff and
/// failure windows become exact and instantaneous to test.
///
/// ```swift
/// let clock = ManualClock()
/// let env = try LocalEnvironment("job", config: [...], clock: clock)
/// let job = Task { try await env.submit() }
/// let delay = await clock.nextSleep()     // an operator waits to restart
/// clock.advance(by: delay)                 // ... and now it restarts
/// ```
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable, Hashable {
        /// Time since the clock was created.
        public let offset: Duration
        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        /// Durations of sleeps started, not yet handed to `nextSleep()`.
        var startedSleeps: [Duration] = []
        var sleepWatchers: [CheckedContinuation<Duration, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// How many sleepers are waiting.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resumeNow, watcher, duration) = state.withLock { state -> (Bool, CheckedContinuation<Duration, Never>?, Duration) in
                    let duration = state.now.duration(to: deadline)
                    // Cancelled before it got here: the cancellation handler found nothing to
                    // remove, so a sleeper added now would never be resumed.
                    if Task.isCancelled { return (true, nil, duration) }
                    if deadline <= state.now { return (true, nil, duration) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    if state.sleepWatchers.isEmpty {
                        state.startedSleeps.append(duration)
                        return (false, nil, duration)
                    }
                    return (false, state.sleepWatchers.removeFirst(), duration)
                }
                watcher?.resume(returning: duration)
                if resumeNow {
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume()
                    }
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits until some task starts sleeping on this clock (or returns at once for a sleep that
    /// started earlier and was not yet reported) and returns how long that sleep is.
    public func nextSleep() async -> Duration {
        await withCheckedContinuation { continuation in
            let started = state.withLock { state -> Duration? in
                if !state.startedSleeps.isEmpty { return state.startedSleeps.removeFirst() }
                state.sleepWatchers.append(continuation)
                return nil
            }
            if let started { continuation.resume(returning: started) }
        }
    }
}
