import Synchronization

/// An async latch: `wait()` suspends until `open()` is called (at once, if it already was).
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isOpen: Bool { state.withLock { $0.open } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

/// A thread-safe counter for closures that run inside a job.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult
    func increment(by amount: Int = 1) -> Int { value.add(amount, ordering: .relaxed).newValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Collects values from several tasks.
final class Recorder<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])
    func append(_ value: Value) { storage.withLock { $0.append(value) } }
    var values: [Value] { storage.withLock { $0 } }
}

/// An error thrown on purpose by test operators.
struct InjectedError: Error, Equatable, CustomStringConvertible {
    let label: String
    init(_ label: String = "injected") { self.label = label }
    var description: String { "InjectedError(\(label))" }
}
