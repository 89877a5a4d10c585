import Synchronization

extension DataStream {
    /// Transforms each record with an async call (a request to a service, say), running up to
    /// `maxConcurrency` calls at once. Output order equals input order.
    ///
    /// - Parameters:
    ///   - maxConcurrency: calls in flight at once per instance, at least 1.
    ///   - timeout: a call running longer fails with ``OperatorTimeoutError`` and is cancelled;
    ///     one that ignores cancellation is abandoned, its result dropped (default:
    ///     `fault_tolerance.operator_timeout`, if set).
    ///   - circuitBreaker: stops calling a failing service for a cool-down (see ``CircuitBreaker``).
    /// - Important: when a call fails, calls for later records that had already completed are
    ///   discarded; after a restart they are made again (a call may run more than once).
    @inlinable
    public func mapAsync<Output: Sendable>(
        maxConcurrency: Int, timeout: Duration? = nil, circuitBreaker: CircuitBreaker? = nil,
        _ transform: @escaping @Sendable (Element) async throws -> Output
    ) -> DataStream<Output> {
        if maxConcurrency < 1 {
            environment.recordProblem(
                PipelineError(code: .invalidArgument, message: "mapAsync(maxConcurrency: \(maxConcurrency)) must allow at least 1 call in flight"))
        }
        if let timeout, timeout <= .zero {
            environment.recordProblem(
                PipelineError(code: .invalidArgument, message: "mapAsync(timeout: \(timeout)) must be positive"))
        }
        let window = max(1, maxConcurrency)
        let node = TransformNode<Element, Output>(label: "mapAsync", input: nodeID) { input, output, context in
            let timeout = timeout ?? context.operatorTimeout
            // The buffers belong to the one instance actor that runs this step; the async body
            // runs only on that actor (its `isolated` parameter).
            nonisolated(unsafe) let (input, output) = (input, output)
            nonisolated(unsafe) let breaker = circuitBreaker.map { CircuitBreakerGate($0, context: context) }
            return .async { isolation, start in
                await withBatchFrame(input, output, from: start) { records, results in
                    await callInOrder(
                        records, from: start, window: window, timeout: timeout, breaker: breaker, transform, into: &results,
                        isolation: isolation
                    ).map { RecordFailure($0.index, $0.error) }
                }
            }
        }
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }
}

/// Calls `transform` on `records[start...]` with at most `window` calls in flight, appending
/// results in input order. Stops at the first failing record (in input order) and returns it.
/// With a circuit breaker, each call first asks it for permission; a rejected record fails with
/// ``CircuitOpenError`` without a call.
@usableFromInline
func callInOrder<Input: Sendable, Output: Sendable>(
    _ records: [Input], from start: Int, window: Int, timeout: Duration?, breaker: CircuitBreakerGate?,
    _ transform: @escaping @Sendable (Input) async throws -> Output, into results: inout [Output],
    isolation: isolated (any Actor)? = #isolation
) async -> (index: Int, error: any Error)? {
    await withTaskGroup(of: (Int, Result<Output, any Error>).self) { group in
        var next = start
        var emitted = start
        var inFlight = 0
        var completed: [Int: Result<Output, any Error>] = [:]
        while emitted < records.count {
            launching: while next < records.count, inFlight < window {
                if let breaker {
                    switch breaker.permit() {
                    case .call, .probe:
                        break
                    case .wait:
                        break launching
                    case .reject(let retryAfter):
                        completed[next] = .failure(breaker.openError(retryAfter: retryAfter))
                        next += 1
                        continue launching
                    }
                }
                let index = next
                let record = records[index]
                group.addTask {
                    do {
                        return (index, .success(try await withOperatorTimeout(timeout) { try await transform(record) }))
                    } catch {
                        return (index, .failure(error))
                    }
                }
                inFlight += 1
                next += 1
            }
            while let ready = completed.removeValue(forKey: emitted) {
                switch ready {
                case .success(let value):
                    results.append(value)
                    emitted += 1
                case .failure(let error):
                    group.cancelAll()
                    return (emitted, error)
                }
            }
            guard emitted < records.count else { break }
            guard let (index, result) = await group.next() else {
                return (emitted, RuntimeInvariantError("mapAsync has records left but no call in flight"))
            }
            inFlight -= 1
            breaker?.record(result)
            completed[index] = result
        }
        return nil
    }
}

/// The circuit breaker of one `mapAsync` instance: its state machine, the clock, and the event
/// log for its transitions. Lives as long as the instance's step (across restarts).
@usableFromInline
final class CircuitBreakerGate {
    private var machine: CircuitBreakerStateMachine
    private let context: StepContext

    @usableFromInline
    init(_ breaker: CircuitBreaker, context: StepContext) {
        machine = CircuitBreakerStateMachine(breaker)
        self.context = context
    }

    func permit() -> CircuitBreakerStateMachine.Permission {
        let (permission, transition) = machine.permit(at: context.now())
        report(transition)
        return permission
    }

    func record<Value>(_ result: Result<Value, any Error>) {
        switch result {
        case .success: report(machine.succeeded())
        case .failure: report(machine.failed(at: context.now()))
        }
    }

    func openError(retryAfter: Duration) -> CircuitOpenError {
        CircuitOpenError(retryAfter: retryAfter, deadLetter: machine.breaker.whenOpen == .deadLetter)
    }

    private func report(_ transition: CircuitBreakerStateMachine.Transition) {
        let event: (JobEvent.Kind, String)
        switch transition {
        case .none: return
        case .opened: event = (.circuitOpened, "circuit opened: no calls for \(machine.breaker.coolDown.seconds) s")
        case .halfOpened: event = (.circuitHalfOpen, "circuit half-open: one probe call")
        case .closed: event = (.circuitClosed, "circuit closed: the probe call succeeded")
        }
        context.emit(JobEvent(kind: event.0, jobID: context.jobID, operatorName: context.operatorName, instance: context.instance, message: event.1))
    }
}

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
