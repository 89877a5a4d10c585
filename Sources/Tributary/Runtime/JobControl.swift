import Synchronization

/// The stop signal of one running job, shared by `submit()`, `cancel()` and the instances.
///
/// Stopping closes every inbox (so instances suspended on a full or empty channel wake up with
/// ``JobStoppedError``) and wakes the job's watcher task, which cancels the task group (so a
/// source waiting inside `read` is cancelled too).
@usableFromInline
final class JobControl: Sendable {
    enum Reason: Sendable, Equatable {
        case finished
        case failed
        case cancelled
    }

    private struct State {
        var reason: Reason?
        var watcher: CheckedContinuation<Reason, Never>?
        var inboxes: [any ClosableInbox] = []
        /// A cancel is remembered even when the attempt already stopped (a failure), so a cancel
        /// during a recovery's delay ends the job instead of being lost.
        var cancelled = false
        /// Waiting in ``waitForCancelOrStop()``, by id.
        var interruptWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0

        /// The waiters of ``waitForCancelOrStop()``, to resume after leaving the lock.
        mutating func takeInterruptWaiters() -> [CheckedContinuation<Void, Never>] {
            defer { interruptWaiters = [:] }
            return Array(interruptWaiters.values)
        }
    }

    private let state = Mutex(State())
    private let draining = Atomic<Bool>(false)
    private let endedEarly = Atomic<Bool>(false)
    private let wakers = Mutex<[@Sendable () -> Void]>([])

    /// Asks the sources to stop reading (``LocalEnvironment/stop()``): each ends its input at
    /// its current position, everything drains, and a final checkpoint commits it. Built-in
    /// sources waiting for input (``AsyncSequenceSource``) are woken; another source blocked in
    /// `read` sees the stop when its read returns.
    func requestStop() {
        guard !draining.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for wake in wakers.withLock({ $0 }) { wake() }
        for waiter in state.withLock({ $0.takeInterruptWaiters() }) { waiter.resume() }
    }

    /// Whether ``requestStop()`` was called; read by source loops once per batch.
    @usableFromInline
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// A source ended its input because of ``requestStop()`` rather than being exhausted.
    @usableFromInline
    func sourceEndedEarly() { endedEarly.store(true, ordering: .relaxed) }

    /// Whether some source stopped before it was exhausted (the job then ends `.stopped`).
    var anySourceEndedEarly: Bool { endedEarly.load(ordering: .relaxed) }

    /// Registers a way to wake a source that waits for input, called by ``requestStop()``.
    func onStopRequest(_ wake: @escaping @Sendable () -> Void) {
        wakers.withLock { $0.append(wake) }
        if isDraining { wake() }
    }

    /// Registers the inboxes to close on stop.
    /// A stop that came before the registration (a cancel while an attempt was being set up)
    /// closes them at once: nothing else would wake an instance waiting on them.
    func register(_ inboxes: [any ClosableInbox]) {
        let stopped = state.withLock { state -> Reason? in
            state.inboxes = inboxes
            return state.reason
        }
        if let stopped, stopped != .finished {
            let error = JobStoppedError(reason: stopped)
            for inbox in inboxes { inbox.close(with: error) }
        }
    }

    /// Prepares the control for another attempt of the same job (a checkpoint restore);
    /// returns `false` when the job was cancelled meanwhile.
    func beginAttempt() -> Bool {
        state.withLock { state in
            guard state.reason != .cancelled, !state.cancelled else { return false }
            state.reason = nil
            state.inboxes = []
            return true
        }
    }

    /// Whether ``stop(_:)`` was ever called with `.cancelled` in this job.
    var wasCancelled: Bool { state.withLock { $0.cancelled } }

    /// Why the job stopped, once it has.
    var reason: Reason? { state.withLock { $0.reason } }

    /// Stops the job; only the first call has an effect (a cancel after another stop is
    /// still remembered, and ends a recovery's delay).
    func stop(_ reason: Reason) {
        let (watcher, inboxes, cancelWaiters) = state.withLock {
            state -> (CheckedContinuation<Reason, Never>?, [any ClosableInbox], [CheckedContinuation<Void, Never>]) in
            var cancelWaiters: [CheckedContinuation<Void, Never>] = []
            if reason == .cancelled {
                state.cancelled = true
                cancelWaiters = state.takeInterruptWaiters()
            }
            guard state.reason == nil else { return (nil, [], cancelWaiters) }
            state.reason = reason
            defer { state.watcher = nil }
            return (state.watcher, state.inboxes, cancelWaiters)
        }
        if reason != .finished {
            let error = JobStoppedError(reason: reason)
            for inbox in inboxes { inbox.close(with: error) }
        }
        watcher?.resume(returning: reason)
        for waiter in cancelWaiters { waiter.resume() }
    }

    /// Returns once the job is cancelled or asked to stop (at once if it was), or when the
    /// calling task is cancelled.
    func waitForCancelOrStop() async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // Read under the lock: requestStop sets `draining` before it takes the
                    // waiters, so a stop is either seen here or resumes this waiter.
                    if state.cancelled || isDraining || Task.isCancelled { return true }
                    state.interruptWaiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.interruptWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Returns once the job stops, for whatever reason.
    func waitForStop() async -> Reason {
        await withCheckedContinuation { continuation in
            let reason = state.withLock { state -> Reason? in
                if let reason = state.reason { return reason }
                state.watcher = continuation
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }
}

/// Thrown inside a job's instances when the job is stopping (another instance failed, or the
/// job was cancelled); never the cause of a failure.
struct JobStoppedError: Error, CustomStringConvertible {
    let reason: JobControl.Reason
    var description: String { "the job is stopping (\(reason))" }
}
