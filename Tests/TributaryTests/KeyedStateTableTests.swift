import Testing
@testable import Tributary

/// The keyed state table against `Dictionary` as the model: every operation the runtime uses,
/// in random order, with `Int` and `String` keys, and copy-on-write under a snapshot.
@Suite struct KeyedStateTableTests {
    /// A reproducible generator (SplitMix64).
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    func exercise<Key: Hashable>(seed: UInt64, keys: Int, steps: Int, key make: (Int) -> Key) {
        var random = Random(state: seed)
        var table = KeyedStateTable<Key, Int>()
        var model: [Key: Int] = [:]
        var snapshots: [(KeyedStateTable<Key, Int>, [Key: Int])] = []
        for step in 0..<steps {
            let key = make(random.next(keys))
            switch random.next(10) {
            case 0, 1:
                table[key] = nil
                model[key] = nil
            case 2:
                #expect(table.removeValue(forKey: key) == model.removeValue(forKey: key))
            case 3, 4, 5:
                table[key, default: 0] += step
                model[key, default: 0] += step
            case 6:
                // Optional in-place update, as reduce does: nil becomes a value.
                if let current = table[key] { table[key] = current &* 3 } else { table[key] = step }
                if let current = model[key] { model[key] = current &* 3 } else { model[key] = step }
            case 7:
                #expect(table[key] == model[key])
            case 8 where step % 97 == 0:
                snapshots.append((table, model))
            case 8:
                // Replacing or inserting; an insert may grow the table under it.
                table.updateValue(step, forKey: key)
                model[key] = step
            default:
                table[key] = step
                model[key] = step
            }
        }
        #expect(table.count == model.count)
        #expect(table.dictionary == model)
        for (snapshot, expected) in snapshots {
            #expect(snapshot.dictionary == expected, "a snapshot never sees later updates")
        }
        let (columnKeys, columnValues) = table.columns
        #expect(Dictionary(uniqueKeysWithValues: zip(columnKeys, columnValues)) == model)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func intKeysBehaveLikeADictionary(seed: UInt64) {
        exercise(seed: seed, keys: 500, steps: 40_000) { $0 }
        // Keys that share low bits, and negative ones.
        exercise(seed: seed, keys: 300, steps: 20_000) { ($0 - 150) << 20 }
    }

    @Test(arguments: [4, 5] as [UInt64])
    func stringKeysBehaveLikeADictionary(seed: UInt64) {
        exercise(seed: seed, keys: 400, steps: 30_000) { "user-\($0)" }
    }

    /// Clearing keys over and over (deletion shifts entries back, no tombstones) keeps every
    /// remaining key reachable.
    @Test func manyDeletionsKeepEveryRemainingKeyReachable() {
        var table = KeyedStateTable<Int, Int>()
        for round in 0..<50 {
            for key in 0..<1_000 { table[key &* 7919 + round] = key }
            for key in 0..<1_000 where key % 3 != 0 { table[key &* 7919 + round] = nil }
            for key in stride(from: 0, to: 1_000, by: 3) {
                #expect(table[key &* 7919 + round] == key)
                table[key &* 7919 + round] = nil
            }
            #expect(table.isEmpty)
        }
    }

    /// A snapshot (a copy of the table) shares storage until the next update, which copies it
    /// once; updating the snapshot's owner never changes the snapshot, and values with storage
    /// of their own (arrays) are copied, not shared.
    @Test func aSnapshotIsCopyOnWrite() {
        var table = KeyedStateTable<Int, [Int]>()
        for key in 0..<100 { table[key] = [key] }
        let snapshot = table
        #expect(snapshot.storage === table.storage, "taking a snapshot copies nothing")
        table[5, default: []].append(6)
        table[200] = [200]
        table[7] = nil
        #expect(snapshot.storage !== table.storage)
        #expect(snapshot[5] == [5])
        #expect(snapshot[7] == [7])
        #expect(snapshot[200] == nil)
        #expect(table[5] == [5, 6])
        #expect(snapshot.count == 100)
        #expect(table.count == 100)
    }

    @Test func growingKeepsEveryEntry() {
        var table = KeyedStateTable<String, Int>()
        table.reserveCapacity(10)
        for key in 0..<100_000 { table["k\(key)"] = key }
        #expect(table.count == 100_000)
        let missing = (0..<100_000).filter { key in table["k" + String(key)] != key }
        #expect(missing.isEmpty, "keys lost while growing: \(missing.prefix(5))")
        #expect(table.storage.count * 4 <= table.storage.capacity * 3)
    }

    struct Boom: Error {}

    /// A first record of a key that throws leaves no entry: the access that inserted the
    /// default value unwound.
    @Test func aFailingFirstAccessLeavesNoKeyBehind() {
        var table = KeyedStateTable<Int, Int>()
        table[1] = 10
        #expect(throws: Boom.self) {
            try updateKeepingStateOnThrow(&table[5, default: 0], 7) { (state: inout Int, value: Int) -> Int in
                state += value
                throw Boom()
            }
        }
        #expect(table[5] == nil)
        #expect(table.count == 1)
        #expect(throws: Boom.self) {
            try updateKeepingStateOnThrow(&table[1, default: 0], 7) { (state: inout Int, value: Int) -> Int in
                state += value
                throw Boom()
            }
        }
        #expect(table[1] == 10, "an existing key keeps its value")
    }

    /// The same through the subscript the batch loops use, with the hash computed beforehand.
    @Test func aFailingFirstAccessWithAGivenHashLeavesNoKeyBehind() {
        var table = KeyedStateTable<String, Int>()
        table["a"] = 10
        let hash = table.hash(of: "b")
        #expect(throws: Boom.self) {
            try updateKeepingStateOnThrow(&table["b", hash: hash, default: 0], 7) { (state: inout Int, value: Int) -> Int in
                state += value
                throw Boom()
            }
        }
        #expect(table["b"] == nil)
        #expect(table.count == 1)
        table["b", hash: hash, default: 0] += 3
        #expect(table.dictionary == ["a": 10, "b": 3])
    }

    /// Keys that differ only in their high bits still spread over every instance.
    @Test func keysDifferingInHighBitsSpreadOverEveryInstance() {
        for count in [2, 3, 4, 6, 8] {
            var perInstance = Array(repeating: 0, count: count)
            for m in 0..<4_000 { perInstance[HashPartitioner<Int>.instance(for: m << 34, of: count)] += 1 }
            #expect(perInstance.allSatisfy { $0 > 4_000 / count / 2 }, "\(count) instances: \(perInstance)")
        }
    }

    enum Region: UInt8, Codable, Hashable { case north, south }

    /// A checkpoint part with a corrupt header, or column-encoded for a type that is not a
    /// number, throws instead of trapping or loading invalid values.
    @Test func corruptColumnHeadersThrow() {
        var header: [UInt8] = [0xC1]
        header += [UInt8](repeating: 0xFF, count: 8) + [8, 0, 0, 0, 0, 0, 0, 0] + [8, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: StateDecodingError.self) {
            var table = KeyedStateTable<Int, Int>()
            try KeyedStateCodec.decode(header, into: &table) { _ in true }
        }
        var forged: [UInt8] = [0xC1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        forged += [7, 1]
        #expect(throws: StateDecodingError.self) {
            var table = KeyedStateTable<Region, Region>()
            try KeyedStateCodec.decode(forged, into: &table) { _ in true }
        }
    }
}
