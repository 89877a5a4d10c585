/// The keyed state of one operator instance: an open-addressing hash table built for the
/// runtime's access pattern — look up or insert a key, update its value in place — with
/// copy-on-write storage, so a checkpoint takes it in O(1) and the next update copies it once.
///
/// Why not `Dictionary`: its hashing (SipHash with a per-process seed) and probing were most
/// of W1's keyed stage. Here `Int` keys use a multiplicative (Fibonacci) hash — one multiply —
/// and every key a one-byte tag per slot, so a probe compares a byte before it compares a
/// key. Other keys hash with their own `hashValue`. Linear probing, power-of-two capacity, at
/// most 3/4 full, and deletion by shifting the following entries back (no tombstones), so a
/// table that keeps clearing keys never slows down.
@usableFromInline
package struct KeyedStateTable<Key: Hashable, Value> {
    @usableFromInline var storage: Storage

    @inlinable
    package init() {
        storage = Storage(capacity: 8)
    }

    @inlinable
    package init(minimumCapacity: Int) {
        storage = Storage(capacity: Storage.capacity(for: minimumCapacity))
    }

    /// The entries stored.
    @inlinable
    package var count: Int { storage.count }

    @inlinable
    var isEmpty: Bool { storage.count == 0 }

    /// The value stored for `key`. Setting `nil` removes the key.
    @inlinable
    package subscript(key: Key) -> Value? {
        get {
            let slot = storage.find(key, hash: Self.hash(key, seed: storage.seed))
            return slot >= 0 ? storage.values[slot] : nil
        }
        _modify { yield &self[key, hash: hash(of: key)] }
    }

    /// The value stored for `key`, whose hash (``hash(of:)``) the caller computed already.
    /// Setting `nil` removes the key.
    @inlinable
    package subscript(key: Key, hash hash: UInt) -> Value? {
        get {
            let slot = storage.find(key, hash: hash)
            return slot >= 0 ? storage.values[slot] : nil
        }
        _modify {
            makeUnique()
            var slot = storage.find(key, hash: hash)
            var value: Value? = slot >= 0 ? (storage.values + slot).move() : nil
            defer {
                if slot >= 0 {
                    if let value {
                        (storage.values + slot).initialize(to: value)
                    } else {
                        // The value was moved out: the slot is a key without a value for now.
                        (storage.keys + slot).deinitialize(count: 1)
                        storage.tags[slot] = 0
                        storage.count -= 1
                        storage.closeGap(at: slot)
                    }
                } else if let value {
                    slot = insertSlot(for: key, hash: hash)
                    (storage.values + slot).initialize(to: value)
                }
            }
            yield &value
        }
    }

    /// The value stored for `key`, inserting `defaultValue` first if there is none; mutating it
    /// updates the entry in place.
    @inlinable
    package subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get {
            let slot = storage.find(key, hash: Self.hash(key, seed: storage.seed))
            return slot >= 0 ? storage.values[slot] : defaultValue()
        }
        // Not forwarded to the hashed subscript: an access that unwinds ends a forwarded
        // access normally, and the inserted key would stay.
        _modify {
            let (slot, inserted) = slotInsertingDefault(for: key, hash: hash(of: key), defaultValue)
            var completed = false
            defer { if inserted, !completed { removeInserted(at: slot) } }
            yield &storage.values[slot]
            completed = true
        }
    }

    /// ``subscript(_:default:)`` for a key whose hash (``hash(of:)``) the caller computed already.
    @inlinable
    package subscript(key: Key, hash hash: UInt, default defaultValue: @autoclosure () -> Value) -> Value {
        get {
            let slot = storage.find(key, hash: hash)
            return slot >= 0 ? storage.values[slot] : defaultValue()
        }
        _modify {
            let (slot, inserted) = slotInsertingDefault(for: key, hash: hash, defaultValue)
            var completed = false
            // An access that unwinds (the caller threw) leaves no key it inserted behind: a
            // failing first record of a key does not store that key.
            defer { if inserted, !completed { removeInserted(at: slot) } }
            yield &storage.values[slot]
            completed = true
        }
    }

    /// The slot of `key`, after inserting it with `defaultValue` if it was absent.
    @inlinable
    mutating func slotInsertingDefault(for key: Key, hash: UInt, _ defaultValue: () -> Value) -> (slot: Int, inserted: Bool) {
        makeUnique()
        let slot = storage.find(key, hash: hash)
        if slot >= 0 { return (slot, false) }
        let inserted = insertSlot(for: key, hash: hash)
        (storage.values + inserted).initialize(to: defaultValue())
        return (inserted, true)
    }

    /// Takes out the entry an unwound access inserted.
    @inlinable
    mutating func removeInserted(at slot: Int) {
        (storage.keys + slot).deinitialize(count: 1)
        (storage.values + slot).deinitialize(count: 1)
        storage.tags[slot] = 0
        storage.count -= 1
        storage.closeGap(at: slot)
    }

    /// The hash this table files `key` under. A batch loop computes it once per record, to
    /// ``touch(_:)`` the slot early and then to look the key up.
    @inlinable
    package func hash(of key: Key) -> UInt { Self.hash(key, seed: storage.seed) }

    /// Whether the table is larger than a core's caches, so that a lookup is a cache miss and
    /// loading a batch's slots ahead of its lookups (``touch(_:)``) pays.
    @inlinable
    var outgrowsCache: Bool {
        storage.capacity &* (MemoryLayout<Key>.stride &+ MemoryLayout<Value>.stride &+ 1) > 1 << 20
    }

    /// Loads the cache lines of `hash`'s home slot (tag, key and value) and returns one of
    /// their bytes. Called for every record of a batch before the batch's lookups, the loads
    /// are independent, so the processor overlaps their misses instead of taking them one
    /// lookup at a time; the caller keeps the result (``keepTouched(_:)``) so they are not
    /// optimised away.
    @inlinable
    func touch(_ hash: UInt) -> UInt8 {
        let slot = storage.home(hash)
        return storage.tags[slot] ^ UnsafeRawPointer(storage.keys + slot).load(as: UInt8.self)
            ^ UnsafeRawPointer(storage.values + slot).load(as: UInt8.self)
    }

    /// Stores what ``touch(_:)`` returned, so its loads have an effect.
    @inlinable
    func keepTouched(_ bytes: UInt8) { storage.touched = bytes }

    /// Stores `value` for `key`, replacing any value it had.
    @inlinable
    package mutating func updateValue(_ value: Value, forKey key: Key) {
        makeUnique()
        let hash = Self.hash(key, seed: storage.seed)
        let slot = storage.find(key, hash: hash)
        if slot >= 0 {
            storage.values[slot] = value
        } else {
            // Two steps: inserting may replace the storage (growth).
            let slot = insertSlot(for: key, hash: hash)
            (storage.values + slot).initialize(to: value)
        }
    }

    /// Removes `key`; returns its value, if it had one.
    @inlinable
    @discardableResult
    mutating func removeValue(forKey key: Key) -> Value? {
        let old = self[key]
        if old != nil { self[key] = nil }
        return old
    }

    @inlinable
    package mutating func reserveCapacity(_ minimumCapacity: Int) {
        let wanted = Storage.capacity(for: minimumCapacity)
        guard wanted > storage.capacity else { return }
        makeUnique()
        storage = storage.moved(to: wanted)
    }

    /// Calls `body` with every entry, in table order.
    @inlinable
    func forEach(_ body: (Key, Value) throws -> Void) rethrows {
        for slot in 0..<storage.capacity where storage.tags[slot] != 0 {
            try body(storage.keys[slot], storage.values[slot])
        }
    }

    /// The keys and the values, in the same (table) order.
    @inlinable
    var columns: (keys: [Key], values: [Value]) {
        var keys: [Key] = []
        var values: [Value] = []
        keys.reserveCapacity(count)
        values.reserveCapacity(count)
        forEach { key, value in
            keys.append(key)
            values.append(value)
        }
        return (keys, values)
    }

    /// The entries as a dictionary (for tests and tools).
    var dictionary: [Key: Value] {
        var result: [Key: Value] = [:]
        result.reserveCapacity(count)
        forEach { result[$0] = $1 }
        return result
    }

    // MARK: - Internals

    /// One multiply for `Int` keys (the product's high bits pick the slot); `hashValue`
    /// otherwise. Slots come from the top bits, tags from bits 24–30 (below the slot bits of
    /// any table under 2^33 slots, and below the bits routing adds a finalizer to). `Int` keys
    /// are mixed with a per-process random seed first, so keys chosen to collide in one process
    /// do not collide in another (`hashValue` is seeded the same way).
    @inlinable
    static func hash(_ key: Key, seed: UInt) -> UInt {
        if Key.self == Int.self {
            return (UInt(bitPattern: unsafeBitCast(key, to: Int.self)) ^ seed) &* 0x9E37_79B9_7F4A_7C15
        }
        return UInt(bitPattern: key.hashValue) &* 0x9E37_79B9_7F4A_7C15
    }

    @inlinable
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// A free slot for a new `key` (known absent), its key and tag set; grows the table first
    /// when it would be more than 3/4 full. The caller made the storage unique and initializes
    /// the value.
    @inlinable
    mutating func insertSlot(for key: Key, hash: UInt) -> Int {
        if (storage.count + 1) * 4 > storage.capacity * 3 { storage = storage.moved(to: storage.capacity * 2) }
        let slot = storage.freeSlot(hash: hash)
        (storage.keys + slot).initialize(to: key)
        storage.tags[slot] = Storage.tag(hash)
        storage.count += 1
        return slot
    }

    @usableFromInline
    final class Storage {
        @usableFromInline let capacity: Int
        @usableFromInline let shift: UInt
        /// The process's seed, read once per storage: reading the global on every access
        /// would cost a lazy-initialisation check per record.
        @usableFromInline let seed = keyedStateHashSeed
        @usableFromInline var count = 0
        /// Where ``KeyedStateTable/keepTouched(_:)`` stores its byte; nothing reads it.
        @usableFromInline var touched: UInt8 = 0
        @usableFromInline let tags: UnsafeMutablePointer<UInt8>
        @usableFromInline let keys: UnsafeMutablePointer<Key>
        @usableFromInline let values: UnsafeMutablePointer<Value>

        @inlinable
        init(capacity: Int) {
            self.capacity = capacity
            shift = UInt(UInt.bitWidth - capacity.trailingZeroBitCount)
            tags = .allocate(capacity: capacity)
            tags.initialize(repeating: 0, count: capacity)
            keys = .allocate(capacity: capacity)
            values = .allocate(capacity: capacity)
        }

        deinit {
            for slot in 0..<capacity where tags[slot] != 0 {
                (keys + slot).deinitialize(count: 1)
                (values + slot).deinitialize(count: 1)
            }
            tags.deallocate()
            keys.deallocate()
            values.deallocate()
        }

        /// The power of two that holds `count` entries at most 3/4 full.
        @inlinable
        static func capacity(for count: Int) -> Int {
            var capacity = 8
            while capacity * 3 < max(count, 1) * 4 { capacity *= 2 }
            return capacity
        }

        /// Never 0 (0 marks a free slot).
        @inlinable
        static func tag(_ hash: UInt) -> UInt8 { UInt8(truncatingIfNeeded: hash >> 24) | 0x80 }

        @inlinable
        func home(_ hash: UInt) -> Int { Int(truncatingIfNeeded: hash >> shift) }

        /// The slot of `key`, or -1.
        @inlinable
        func find(_ key: Key, hash: UInt) -> Int {
            let tag = Self.tag(hash)
            let mask = capacity - 1
            var slot = home(hash)
            while true {
                let current = tags[slot]
                if current == 0 { return -1 }
                if current == tag, keys[slot] == key { return slot }
                slot = (slot + 1) & mask
            }
        }

        /// The first free slot on `hash`'s probe sequence (the table is never full).
        @inlinable
        func freeSlot(hash: UInt) -> Int {
            let mask = capacity - 1
            var slot = home(hash)
            while tags[slot] != 0 { slot = (slot + 1) & mask }
            return slot
        }

        /// After `gap` was emptied: moves back the entries after it whose probe sequence
        /// passes through it, so every entry stays reachable from its home slot.
        @inlinable
        func closeGap(at start: Int) {
            let mask = capacity - 1
            var gap = start
            var slot = (gap + 1) & mask
            while tags[slot] != 0 {
                let home = self.home(rehash(keys[slot]))
                // The entry may move to the gap if the gap lies between its home and its slot
                // (cyclically).
                let distanceToSlot = (slot - home) & mask
                let distanceToGap = (gap - home) & mask
                if distanceToGap < distanceToSlot {
                    (keys + gap).moveInitialize(from: keys + slot, count: 1)
                    (values + gap).moveInitialize(from: values + slot, count: 1)
                    tags[gap] = tags[slot]
                    tags[slot] = 0
                    gap = slot
                }
                slot = (slot + 1) & mask
            }
        }

        @inlinable
        func rehash(_ key: Key) -> UInt { KeyedStateTable.hash(key, seed: seed) }

        @inlinable
        func copy() -> Storage {
            let copy = Storage(capacity: capacity)
            for slot in 0..<capacity where tags[slot] != 0 {
                (copy.keys + slot).initialize(to: keys[slot])
                (copy.values + slot).initialize(to: values[slot])
                copy.tags[slot] = tags[slot]
            }
            copy.count = count
            return copy
        }

        /// A new storage of `newCapacity` with every entry moved into it; this one is left
        /// empty. Only for a storage nothing else shares.
        @inlinable
        func moved(to newCapacity: Int) -> Storage {
            let bigger = Storage(capacity: newCapacity)
            for slot in 0..<capacity where tags[slot] != 0 {
                let hash = rehash(keys[slot])
                let target = bigger.freeSlot(hash: hash)
                (bigger.keys + target).moveInitialize(from: keys + slot, count: 1)
                (bigger.values + target).moveInitialize(from: values + slot, count: 1)
                bigger.tags[target] = Self.tag(hash)
                tags[slot] = 0
            }
            bigger.count = count
            count = 0
            return bigger
        }
    }
}

// The storage is shared only read-only: every mutation first makes it unique (copy-on-write),
// as `Dictionary` does, so a snapshot handed to the checkpoint writer never changes under it.
extension KeyedStateTable: @unchecked Sendable where Key: Sendable, Value: Sendable {}

extension KeyedStateTable: Equatable where Value: Equatable {
    @inlinable
    package static func == (lhs: Self, rhs: Self) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var equal = true
        lhs.forEach { key, value in
            if equal, rhs[key] != value { equal = false }
        }
        return equal
    }
}

extension KeyedStateTable: ExpressibleByDictionaryLiteral {
    @inlinable
    package init(dictionaryLiteral elements: (Key, Value)...) {
        self.init(minimumCapacity: elements.count)
        for (key, value) in elements { self[key] = value }
    }
}

/// Mixed into `Int` keys' hash: random per process, like `hashValue`'s seed. Routing and
/// restores recompute ownership in each process, so nothing depends on it across processes.
@usableFromInline
let keyedStateHashSeed = UInt(truncatingIfNeeded: UInt64.random(in: .min ... .max))
