/// Splits a batch by key into one part per downstream instance; built where the key type is
/// concrete, so hashing each record runs specialised code.
@usableFromInline
final class HashPartitioner<Element>: Sendable {
    let split: @Sendable ([Element], Int) -> [[Element]]

    @usableFromInline
    init(split: @escaping @Sendable ([Element], Int) -> [[Element]]) {
        self.split = split
    }

    /// Which of `count` instances owns `key`. Stable within a process.
    @inlinable
    static func instance<Key: Hashable>(for key: Key, of count: Int) -> Int {
        Int(UInt(bitPattern: key.hashValue) % UInt(count))
    }
}
