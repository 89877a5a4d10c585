import Synchronization

/// Makes an operator throw on chosen records, a chosen number of times each: call ``check(_:)``
/// from the operator's closure.
///
/// ```swift
/// let failures = FailureInjector(failOn: [10, 20], times: 2)
/// stream.map { value in try failures.check(value); return value * 2 }
/// ```
/// Record 10 throws ``InjectedFailure`` the first two times it is seen and passes the third.
public final class FailureInjector<Key: Hashable & Sendable>: Sendable {
    private let remaining: Mutex<[Key: Int]>
    private let thrown = Atomic<Int>(0)

    /// - Parameters:
    ///   - failOn: the records (or keys) that fail.
    ///   - times: how many times each fails before it passes; `Int.max` for always.
    public init(failOn: Set<Key>, times: Int = 1) {
        remaining = Mutex(Dictionary(uniqueKeysWithValues: failOn.map { ($0, times) }))
    }

    /// Throws ``InjectedFailure`` if `key` still has failures left.
    public func check(_ key: Key) throws {
        let fail = remaining.withLock { remaining -> Bool in
            guard let left = remaining[key], left > 0 else { return false }
            remaining[key] = left - 1
            return true
        }
        if fail {
            thrown.add(1, ordering: .relaxed)
            throw InjectedFailure(record: "\(key)")
        }
    }

    /// How many failures were thrown so far.
    public var thrownCount: Int { thrown.load(ordering: .relaxed) }
}

/// The error a ``FailureInjector`` throws.
public struct InjectedFailure: Error, Equatable, CustomStringConvertible {
    public let record: String
    public init(record: String) { self.record = record }
    public var description: String { "injected failure on record \(record)" }
}
