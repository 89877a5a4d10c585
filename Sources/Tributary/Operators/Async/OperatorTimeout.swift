import Synchronization

/// Runs `body`, failing with ``OperatorTimeoutError`` (and cancelling it) if it takes longer than
/// `timeout`. Cancelling the caller cancels `body` and throws `CancellationError` at once.
///
/// - Important: the caller is resumed when the time is up even if `body` never checks for
///   cancellation; such a call is abandoned, not stopped: it may run on in the background, and
///   whatever it returns or throws then is dropped.
@usableFromInline
func withOperatorTimeout<Value: Sendable>(
    _ timeout: Duration?, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    guard let timeout else { return try await body() }
    // Why not a task group: a group waits for every child before it returns, so a call that
    // ignores cancellation held the operator (and with it the job) until it finished by itself,
    // which for a hung call is never. Unstructured tasks can be abandoned instead; the price is
    // that an abandoned call goes on using a thread and whatever it holds until it ends, with
    // no one to see its result. Only calls with a timeout pay for the two tasks.
    let race = TimedCall<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.begin(continuation)
            race.track(Task {
                do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
            })
            race.track(Task {
                // Cancelled when the call finished first: nothing left to time.
                do { try await Task.sleep(for: timeout) } catch { return }
                race.finish(.failure(OperatorTimeoutError(timeout: timeout)))
            })
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// One timed call: the first of the call's result, the timer and the caller's cancellation
/// resumes the caller; the others find it finished, and both tasks are cancelled then.
final class TimedCall<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        /// The outcome, once there is one (it may come before the continuation, when the caller
        /// was cancelled before it began waiting).
        var outcome: Result<Value, any Error>?
        var tasks: [Task<Void, Never>] = []
    }

    private let state = Mutex(State())

    func begin(_ continuation: CheckedContinuation<Value, any Error>) {
        let outcome = state.withLock { state -> Result<Value, any Error>? in
            guard let outcome = state.outcome else {
                state.continuation = continuation
                return nil
            }
            return outcome
        }
        if let outcome { continuation.resume(with: outcome) }
    }

    func track(_ task: Task<Void, Never>) {
        let finished = state.withLock { state -> Bool in
            if state.outcome == nil { state.tasks.append(task) }
            return state.outcome != nil
        }
        if finished { task.cancel() }
    }

    func finish(_ outcome: Result<Value, any Error>) {
        let taken = state.withLock { state -> (CheckedContinuation<Value, any Error>?, [Task<Void, Never>])? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { (state.continuation, state.tasks) = (nil, []) }
            return (state.continuation, state.tasks)
        }
        guard let (continuation, tasks) = taken else { return }
        for task in tasks { task.cancel() }
        continuation?.resume(with: outcome)
    }
}

/// A call took longer than its timeout and was cancelled.
public struct OperatorTimeoutError: Error, Sendable, CustomStringConvertible {
    public let timeout: Duration
    public init(timeout: Duration) { self.timeout = timeout }
    public var description: String { "the call did not finish within \(timeout.seconds) s and was cancelled" }
}
