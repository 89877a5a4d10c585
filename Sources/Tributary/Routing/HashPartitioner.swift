/// Splits a batch by key into one part per downstream instance; built where the key type is
/// concrete, so hashing each record runs specialised code.
@usableFromInline
final class HashPartitioner<Element>: Sendable {
    let split: @Sendable ([Element], Int) -> [[Element]]

    @usableFromInline
    init(split: @escaping @Sendable ([Element], Int) -> [[Element]]) {
        self.split = split
    }

    /// Which of `count` instances owns `key`. Stable within a process (a restore recomputes
    /// it for every key, so a new process or another instance count still finds each key once).
    ///
    /// The same hash the keyed state table uses (one multiplication for `Int` keys, not
    /// `hashValue`'s SipHash), taking bits 32–63 of it: the table picks slots from the top bits
    /// of a much smaller range, so the keys of one instance still spread over its table.
    @inlinable
    static func instance<Key: Hashable>(for key: Key, of count: Int) -> Int {
        Int(truncatingIfNeeded: (KeyedStateTable<Key, Int>.hash(key) >> 32) % UInt(count))
    }
}
