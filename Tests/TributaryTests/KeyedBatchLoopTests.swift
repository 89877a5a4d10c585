import Synchronization
import Testing
@testable import Tributary

/// The keyed record loop for tables larger than the caches: keys and hashes of the whole
/// batch first, then the lookups. It must behave exactly like the one-pass loop: the same
/// state and outputs, a failing key or update reported at its own record with the records
/// before it applied, and no key left behind in its scratch space.
@Suite struct KeyedBatchLoopTests {
    struct NoKey: Error {}
    struct Refused: Error {}

    /// A key that counts its live copies, so a key leaked or released twice shows.
    final class CountedKey: Hashable, Sendable {
        static let live = Mutex(0)
        let id: Int
        init(_ id: Int) {
            self.id = id
            Self.live.withLock { $0 += 1 }
        }
        deinit { Self.live.withLock { $0 -= 1 } }
        static func == (a: CountedKey, b: CountedKey) -> Bool { a.id == b.id }
        func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    /// Adds each record to its key's sum and emits the new sum; refuses `refusing`.
    static func run(
        _ records: [Int], from start: Int, table: inout KeyedStateTable<Int, Int>, results: inout [Int],
        keyThrowsAt: Int? = nil, refusing: Int? = nil
    ) -> RecordFailure? {
        keyedWithPrefetch(records, from: start, into: &results, table: &table, key: { record in
            if record == keyThrowsAt { throw NoKey() }
            return record % 7_919
        }) { table, key, hash, record, slot in
            if record == refusing { throw Refused() }
            let sum = table[key, hash: hash, default: 0] + record
            table[key, hash: hash, default: 0] = sum
            slot.initialize(to: sum)
        }
    }

    static func model(_ records: ArraySlice<Int>, sums: inout [Int: Int]) -> [Int] {
        records.map { record in
            sums[record % 7_919, default: 0] += record
            return sums[record % 7_919, default: 0]
        }
    }

    @Test func aBatchGivesTheStateAndOutputsOfAPlainLoop() {
        let records = Array(0..<3_000)
        var table = KeyedStateTable<Int, Int>()
        var results: [Int] = []
        #expect(Self.run(records, from: 0, table: &table, results: &results) == nil)
        var sums: [Int: Int] = [:]
        #expect(results == Self.model(records[...], sums: &sums))
        #expect(table.dictionary == sums)
    }

    @Test func aKeyThatThrowsFailsItsOwnRecordAfterTheRecordsBeforeIt() throws {
        let records = Array(0..<500)
        var table = KeyedStateTable<Int, Int>()
        var results: [Int] = []
        let failure = try #require(Self.run(records, from: 0, table: &table, results: &results, keyThrowsAt: 321))
        #expect(failure.index == 321)
        #expect(failure.error is NoKey)
        var sums: [Int: Int] = [:]
        #expect(results == Self.model(records[..<321], sums: &sums))
        #expect(table.dictionary == sums)
        // Skipping the record goes on from the next one.
        #expect(Self.run(records, from: 322, table: &table, results: &results, keyThrowsAt: 321) == nil)
        #expect(Array(results[321...]) == Self.model(records[322...], sums: &sums))
        #expect(table.dictionary == sums)
    }

    @Test func anUpdateThatThrowsLeavesNoStateForItsRecord() throws {
        let records = Array(0..<500)
        var table = KeyedStateTable<Int, Int>()
        var results: [Int] = []
        let failure = try #require(Self.run(records, from: 0, table: &table, results: &results, refusing: 100))
        #expect(failure.index == 100)
        #expect(failure.error is Refused)
        var sums: [Int: Int] = [:]
        #expect(results == Self.model(records[..<100], sums: &sums))
        #expect(table.dictionary == sums)
    }

    @Test func keysOfRecordsAfterAFailureAreReleased() throws {
        let before = CountedKey.live.withLock { $0 }
        do {
            let records = Array(0..<200)
            var table = KeyedStateTable<CountedKey, Int>()
            var results: [Int] = []
            let failure = keyedWithPrefetch(records, from: 0, into: &results, table: &table, key: { CountedKey($0 % 50) }) {
                table, key, hash, record, slot in
                if record == 120 { throw Refused() }
                table[key, hash: hash, default: 0] += 1
                slot.initialize(to: record)
            }
            #expect(failure?.index == 120)
            #expect(results == Array(0..<120))
            #expect(table.count == 50)
            #expect(CountedKey.live.withLock { $0 } == before + 50)
        }
        #expect(CountedKey.live.withLock { $0 } == before)
    }

    /// The hashes a router sends with a batch are the ones the keyed state table files the
    /// keys under, so the keyed operator can use them instead of hashing again.
    @Test func theRoutersHashesAreTheTablesHashes() throws {
        let env = try LocalEnvironment("hashes")
        let keyed = env.fromCollection([String]()).keyBy { (record: String) -> String in
            if record == "bad" { throw NoKey() }
            return record.uppercased()
        }
        let records = (0..<500).map { "r\($0)" } + ["bad"]
        let parts = keyed.partitioner.split(records, 3)
        let table = KeyedStateTable<String, Int>()
        var seen = 0
        for (instance, part) in parts.enumerated() {
            try #require(part.hashes.count == part.records.count)
            for (record, hash) in zip(part.records, part.hashes) where record != "bad" {
                #expect(hash == table.hash(of: record.uppercased()))
                #expect(HashPartitioner<String>.instance(for: record.uppercased(), of: 3) == instance)
                seen += 1
            }
        }
        #expect(seen == 500)
        // Int keys are cheaper to hash again than to carry.
        let ints = env.fromCollection([Int]()).keyBy { $0 }.partitioner.split(Array(0..<100), 2)
        #expect(ints.allSatisfy { $0.hashes.isEmpty })
    }

    /// The keyed step files keys under the hashes sent with the batch: given hashes that are
    /// not the key's own, the key is stored where its own hash does not find it.
    @Test func theKeyedStepUsesTheHashesSentWithItsBatch() throws {
        let input = BatchBuffer<String>(capacity: 4)
        let output = BatchBuffer<Int>(capacity: 4)
        let store = KeyedStateStore<String, Int>()
        let body = makeKeyedBody(input, output, store: store, key: { $0 }) { table, key, hash, record, slot in
            table[key, hash: hash, default: 0] += 1
            slot.initialize(to: table[key, hash: hash, default: 0])
        }
        guard case .sync(let run) = body else {
            Issue.record("keyed bodies are synchronous")
            return
        }
        let table = KeyedStateTable<String, Int>()
        // Other slot bits and another tag than the keys' own hashes.
        let given = ["a", "b", "a"].map { table.hash(of: $0) ^ 0xA000_0000_7F00_0000 }
        input.items = ["a", "b", "a"]
        input.hashes = given
        _ = run(0)
        #expect(output.items == [1, 1, 2])
        let stored = store.values
        #expect(stored.count == 2)
        let slot = stored.storage.find("a", hash: given[0])
        try #require(slot >= 0, "filed under the given hash")
        #expect(stored.storage.tags[slot] == KeyedStateTable<String, Int>.Storage.tag(given[0]))
        #expect(stored.storage.tags[slot] != KeyedStateTable<String, Int>.Storage.tag(table.hash(of: "a")))
        // Without hashes the step hashes the keys itself.
        let plain = KeyedStateStore<String, Int>()
        let plainBody = makeKeyedBody(input, output, store: plain, key: { $0 }) { table, key, hash, record, slot in
            table[key, hash: hash, default: 0] += 1
            slot.initialize(to: 0)
        }
        guard case .sync(let runPlain) = plainBody else { return }
        input.items = ["a", "b", "a"]
        input.hashes = []
        _ = runPlain(0)
        #expect(plain.values["a"] == 2)
    }

    /// A retry from the record after a failure reads the sent hashes at the records' own
    /// positions, in both loops: the state ends as a plain loop's over the records kept.
    @Test func aRetryAfterAFailureUsesTheSentHashesOfItsOwnRecords() {
        let records = (0..<40).map { "k\($0 % 7)" }
        let table = KeyedStateTable<String, Int>()
        let hashes = records.map { table.hash(of: $0) }
        var model: [String: Int] = [:]
        for (index, record) in records.enumerated() where index != 9 { model[record, default: 0] += 1 }
        // The one-pass loop, through the keyed step: record 9 fails, the retry skips it.
        let input = BatchBuffer<String>(capacity: 40)
        let output = BatchBuffer<Int>(capacity: 40)
        let store = KeyedStateStore<String, Int>()
        let calls = Counter()
        let body = makeKeyedBody(input, output, store: store, key: { $0 }) { table, key, hash, record, slot in
            if calls.increment() == 10 { throw Refused() }
            table[key, hash: hash, default: 0] += 1
            slot.initialize(to: 0)
        }
        guard case .sync(let run) = body else {
            Issue.record("keyed bodies are synchronous")
            return
        }
        input.items = records
        input.hashes = hashes
        guard case .failed(let index, _, _, _, _) = run(0) else {
            Issue.record("record 9 should fail")
            return
        }
        #expect(index == 9)
        _ = run(10)
        #expect(store.values.count == model.count, "each key filed once, under its own hash")
        #expect(store.values.dictionary == model)
        // The two-pass loop, called with the hashes and a start past the failed record.
        var big = KeyedStateTable<String, Int>()
        var results: [Int] = []
        let apply: (inout KeyedStateTable<String, Int>, String, UInt, String, UnsafeMutablePointer<Int>) throws -> Void = {
            table, key, hash, _, slot in
            table[key, hash: hash, default: 0] += 1
            slot.initialize(to: 0)
        }
        #expect(keyedWithPrefetch(Array(records[..<9]), from: 0, hashes: Array(hashes[..<9]), into: &results, table: &big, key: { $0 }, apply: apply) == nil)
        #expect(keyedWithPrefetch(records, from: 10, hashes: hashes, into: &results, table: &big, key: { $0 }, apply: apply) == nil)
        #expect(big.count == model.count)
        #expect(big.dictionary == model)
        #expect(results.count == 39)
    }

    /// String keys over three instances: the keyed operator uses the hashes the router sent,
    /// in the one-pass loop (few keys) and in the two-pass loop (many).
    @Test(arguments: [50, 120_000])
    func parallelStringKeyedStateMatchesAPlainLoop(keys: Int) async throws {
        let records = Array(0..<(keys * 2))
        let env = try LocalEnvironment("string-keys", config: ["batch_size": 256])
        let sink = CollectSink<String>()
        env.fromCollection(records)
            .keyBy { "k\($0 % keys)" }
            .mapWithState(initial: 0) { (sum: inout Int, record: Int) in
                sum += record
                return "\(record % keys):\(sum)"
            }
            .parallelism(3)
            .sink(sink)
        _ = try await env.submit()
        var sums: [Int: Int] = [:]
        let expected = records.map { record in
            sums[record % keys, default: 0] += record
            return "\(record % keys):\(sums[record % keys, default: 0])"
        }
        #expect(sink.values.sorted() == expected.sorted())
    }

    /// Through a pipeline: enough keys that the instance's table outgrows the caches, so the
    /// second half of the input runs the two-pass loop.
    @Test func mapWithStateOverManyKeysMatchesAPlainLoop() async throws {
        let keys = 60_000
        var big = KeyedStateTable<String, Int>()
        for key in 0..<keys { big["k\(key)", default: 0] = key }
        try #require(big.outgrowsCache, "the test needs a table larger than the caches")
        let records = Array(0..<(keys * 2))
        let env = try LocalEnvironment("many-keys")
        let sink = CollectSink<Int>()
        env.fromCollection(records)
            .keyBy { "k\($0 % keys)" }
            .mapWithState(initial: 0) { (sum: inout Int, record: Int) in
                sum += record
                return sum
            }
            .sink(sink)
        _ = try await env.submit()
        var sums: [Int: Int] = [:]
        let expected = records.map { record in
            sums[record % keys, default: 0] += record
            return sums[record % keys, default: 0]
        }
        #expect(sink.values == expected)
    }
}
