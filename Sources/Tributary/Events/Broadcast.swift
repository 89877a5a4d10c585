import Synchronization

/// Hands values to every current subscriber's `AsyncStream`: a job's events
/// (``LocalEnvironment/events()``) and metrics (``LocalEnvironment/metrics()``).
final class Broadcast<Value: Sendable>: Sendable {
    private let subscribers = Mutex<[UInt64: AsyncStream<Value>.Continuation]>([:])
    private let nextID = Atomic<UInt64>(0)

    func subscribe() -> AsyncStream<Value> {
        let (stream, continuation) = AsyncStream.makeStream(of: Value.self)
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    func publish(_ value: Value) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(value) }
    }

    /// Ends every current subscriber's stream: what they watched is over.
    func finishSubscribers() {
        let finished = subscribers.withLock { subscribers -> [AsyncStream<Value>.Continuation] in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for continuation in finished { continuation.finish() }
    }
}
