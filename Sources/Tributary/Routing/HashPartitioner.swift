/// Splits a batch by key into one part per downstream instance, with each record's key hash
/// (the keyed state table's, which routing needs anyway) so the keyed operator does not hash
/// again; built where the key type is concrete, so hashing each record runs specialised code.
@usableFromInline
final class HashPartitioner<Element>: Sendable {
    @usableFromInline
    typealias Part = (records: [Element], hashes: [UInt])
    let split: @Sendable ([Element], Int) -> [Part]

    @usableFromInline
    init(split: @escaping @Sendable ([Element], Int) -> [Part]) {
        self.split = split
    }

    /// Which of `count` instances owns `key`. Stable within a process (a restore recomputes
    /// it for every key, so a new process or another instance count still finds each key once).
    ///
    /// The keyed state table's hash (one multiplication for `Int` keys, not `hashValue`'s
    /// SipHash), put through a finalizer so that the instance and the slot a key gets in its
    /// instance's table are independent.
    @inlinable
    static func instance<Key: Hashable>(for key: Key, of count: Int) -> Int {
        instance(forHash: KeyedStateTable<Key, Int>.hash(key, seed: keyedStateHashSeed), of: count)
    }

    /// Which of `count` instances owns the key whose table hash is `hash`.
    @inlinable
    static func instance(forHash hash: UInt, of count: Int) -> Int {
        // A full-avalanche finalizer (murmur3's fmix64) first: a bit of the table's product
        // depends only on the key's bits below it, so keys differing only in high bits would
        // otherwise all go to one instance.
        var mixed = UInt64(hash)
        mixed ^= mixed >> 33
        mixed &*= 0xff51_afd7_ed55_8ccd
        mixed ^= mixed >> 33
        mixed &*= 0xc4ce_b9fe_1a85_ec53
        mixed ^= mixed >> 33
        return Int(truncatingIfNeeded: (mixed >> 32) % UInt64(count))
    }
}
