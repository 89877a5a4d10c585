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
    ///   - retry: retries a failing call alone, after the strategy's delay (on the job clock),
    ///     while the other calls go on: `.fixed(delay:maxAttempts:)` or
    ///     `.exponential(...)`, `maxAttempts` retries per record (counted per record, and
    ///     afresh after a restart). A timeout counts as a failure. Only when a record's retries
    ///     are spent does its failure go to the operator's supervision policy. Default: none.
    ///   - circuitBreaker: stops calling a failing service for a cool-down (see ``CircuitBreaker``).
    ///     It sees each record's final outcome, after its retries.
    ///   - transform: the async call for one record; a throw is the record's failure.
    /// - Important: when a record's call fails for good, calls for later records that had
    ///   already completed are discarded; after a restart they are made again (a call may run
    ///   more than once). Per-call retries keep a transient failure from getting that far.
    @inlinable
    public func mapAsync<Output: Sendable>(
        maxConcurrency: Int, timeout: Duration? = nil, retry: RestartStrategy? = nil, circuitBreaker: CircuitBreaker? = nil,
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
        if let retry, let problem = retryProblem(retry) {
            environment.recordProblem(PipelineError(code: .invalidArgument, message: "mapAsync(retry:): \(problem)"))
        }
        if let problem = circuitBreaker?.problem {
            environment.recordProblem(PipelineError(code: .invalidArgument, message: "mapAsync: \(problem)"))
        }
        let window = max(1, maxConcurrency)
        var node = TransformNode<Element, Output>(label: "mapAsync", input: nodeID) { input, output, context in
            let timeout = timeout ?? context.operatorTimeout
            // The buffers belong to the one instance actor that runs this step; the async body
            // runs only on that actor (its `isolated` parameter).
            nonisolated(unsafe) let (input, output) = (input, output)
            nonisolated(unsafe) let breaker = circuitBreaker.map { CircuitBreakerGate($0, context: context) }
            return .async { isolation, start in
                await withBatchFrame(input, output, from: start) { records, results in
                    await callInOrder(
                        records, from: start, window: window, timeout: timeout, retry: retry, sleep: context.sleep, breaker: breaker,
                        transform, into: &results, isolation: isolation
                    ).map { RecordFailure($0.index, $0.error) }
                }
            }
        }
        node.servesAnyRecord = true
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }
}

/// Calls `transform` on `records[start...]` with at most `window` calls in flight, appending
/// results in input order. Stops at the first failing record (in input order) and returns it.
/// With a circuit breaker, each call first asks it for permission; a rejected record fails with
/// ``CircuitOpenError`` without a call.
@usableFromInline
func callInOrder<Input: Sendable, Output: Sendable>(
    _ records: [Input], from start: Int, window: Int, timeout: Duration?, retry: RestartStrategy? = nil,
    sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }, breaker: CircuitBreakerGate?,
    _ transform: @escaping @Sendable (Input) async throws -> Output, into results: inout [Output],
    isolation: isolated (any Actor)? = #isolation
) async -> (index: Int, error: any Error)? {
    await withTaskGroup(of: (Int, Result<Output, any Error>).self) { group in
        var next = start
        var emitted = start
        var inFlight = 0
        var completed: [Int: Result<Output, any Error>] = [:]
        // The record whose call is the breaker's half-open probe, until its result is recorded.
        // Leaving with the probe unanswered (an earlier record failed) must tell the breaker, or
        // it waits for that result forever and every retry finds no call it may make.
        var probe: Int?
        defer { if probe != nil { breaker?.probeAbandoned() } }
        while emitted < records.count {
            launching: while next < records.count, inFlight < window {
                if let breaker {
                    switch breaker.permit() {
                    case .call:
                        break
                    case .probe:
                        probe = next
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
                    await (index, callWithRetries(retry, sleep: sleep) { try await withOperatorTimeout(timeout) { try await transform(record) } })
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
            if index == probe { probe = nil }
            breaker?.record(result)
            completed[index] = result
        }
        return nil
    }
}


/// One record's call, retried under `retry` (attempts counted for this call alone) until it
/// succeeds, the strategy gives up, or the task is cancelled.
@usableFromInline
func callWithRetries<Output: Sendable>(
    _ retry: RestartStrategy?, sleep: @Sendable (Duration) async throws -> Void, _ call: () async throws -> Output
) async -> Result<Output, any Error> {
    var pacer = retry.map { RestartPacer(strategy: $0, seed: nil) }
    while true {
        do {
            return .success(try await call())
        } catch {
            // Always "at the same time": an exponential strategy's quiet period (reset_after)
            // must not restart the count, or a call slower than it would retry forever.
            guard !Task.isCancelled, var current = pacer, case .restart(_, let delay) = current.failure(at: .zero) else {
                return .failure(error)
            }
            pacer = current
            if delay > .zero {
                do {
                    try await sleep(delay)
                } catch {
                    return .failure(error)
                }
            }
        }
    }
}

/// Why `retry` cannot pace one call's retries, if it cannot: a failure rate limits failures
/// per interval, not attempts per call.
@usableFromInline
func retryProblem(_ retry: RestartStrategy) -> String? {
    if let error = retry.configurationError(at: "retry") { return error.description }
    if case .failureRate = retry.kind { return "a failure rate limits failures per interval, not the retries of one call; use .fixed or .exponential" }
    return nil
}
