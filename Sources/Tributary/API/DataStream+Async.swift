extension DataStream {
    /// Transforms each record with an async call (a request to a service, say), running up to
    /// `maxConcurrency` calls at once. Output order equals input order.
    ///
    /// - Parameters:
    ///   - maxConcurrency: calls in flight at once per instance, at least 1.
    ///   - timeout: a call running longer fails with ``OperatorTimeoutError`` and is cancelled
    ///     (default: `fault_tolerance.operator_timeout`, if set).
    /// - Important: when a call fails, calls for later records that had already completed are
    ///   discarded; after a restart they are made again (a call may run more than once).
    @inlinable
    public func mapAsync<Output: Sendable>(
        maxConcurrency: Int, timeout: Duration? = nil, _ transform: @escaping @Sendable (Element) async throws -> Output
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
            return .async { isolation, start in
                var records = input.take()
                var results = output.take()
                let before = results.count
                let failure = await callInOrder(records, from: start, window: window, timeout: timeout, transform, into: &results)
                let produced = results.count - before
                if let failure {
                    let record = describeRecord(records[failure.index])
                    input.items = records
                    output.items = results
                    return .failed(index: failure.index, recordsIn: failure.index - start, recordsOut: produced, error: failure.error, record: record)
                }
                let consumed = records.count - start
                records.removeAll(keepingCapacity: true)
                input.items = records
                output.items = results
                return .completed(recordsIn: consumed, recordsOut: produced)
            }
        }
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }
}

/// Calls `transform` on `records[start...]` with at most `window` calls in flight, appending
/// results in input order. Stops at the first failing record (in input order) and returns it.
@usableFromInline
func callInOrder<Input: Sendable, Output: Sendable>(
    _ records: [Input], from start: Int, window: Int, timeout: Duration?,
    _ transform: @escaping @Sendable (Input) async throws -> Output, into results: inout [Output],
    isolation: isolated (any Actor)? = #isolation
) async -> (index: Int, error: any Error)? {
    await withTaskGroup(of: (Int, Result<Output, any Error>).self) { group in
        var next = start
        func launch(_ index: Int) {
            let record = records[index]
            group.addTask {
                do {
                    return (index, .success(try await withOperatorTimeout(timeout) { try await transform(record) }))
                } catch {
                    return (index, .failure(error))
                }
            }
        }
        while next < records.count, next - start < window {
            launch(next)
            next += 1
        }
        var completed: [Int: Result<Output, any Error>] = [:]
        var emitted = start
        while let (index, result) = await group.next() {
            completed[index] = result
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
            if next < records.count {
                launch(next)
                next += 1
            }
        }
        return nil
    }
}

/// Runs `body`, failing with ``OperatorTimeoutError`` (and cancelling it) if it takes longer than `timeout`.
@usableFromInline
func withOperatorTimeout<Value: Sendable>(
    _ timeout: Duration?, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    guard let timeout else { return try await body() }
    return try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw OperatorTimeoutError(timeout: timeout)
        }
        return value
    }
}

/// A call took longer than its timeout and was cancelled.
public struct OperatorTimeoutError: Error, Sendable, CustomStringConvertible {
    public let timeout: Duration
    public init(timeout: Duration) { self.timeout = timeout }
    public var description: String { "the call did not finish within \(timeout.seconds) s and was cancelled" }
}
