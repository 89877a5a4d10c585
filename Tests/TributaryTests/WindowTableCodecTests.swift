import Foundation
import Testing
@testable import Tributary

/// A window operator's state in checkpoints: columns that round-trip every key's windows and
/// accumulators (numbers, structs, and accumulators of no one shape), keep only the keys a
/// restoring instance owns, still read tables written before the format, and throw on damage.
@Suite struct WindowTableCodecTests {
    struct Stats: Codable, Sendable, Equatable {
        var count: Int
        var sum: Double
        var last: String
    }

    static func window(_ index: Int) -> TimeWindow {
        TimeWindow(start: .milliseconds(index * 2_000 - 7), end: .milliseconds(index * 2_000 + 10_000) + .nanoseconds(index % 3))
    }

    static func table<Key: Hashable & Codable & Sendable, Accumulator: Codable & Sendable>(
        _ keys: [Key], _ accumulator: (Int, Int) -> Accumulator
    ) -> KeyedStateTable<Key, WindowPanes<Accumulator>> {
        var table = KeyedStateTable<Key, WindowPanes<Accumulator>>()
        for (index, key) in keys.enumerated() {
            var panes = WindowPanes<Accumulator>()
            // 0 to 5 windows per key (a key whose windows all fired keeps an empty entry).
            for slot in 0..<(index % 6) {
                panes.windows.append(window(index + slot))
                panes.accumulators.append(accumulator(index, slot))
            }
            table.updateValue(panes, forKey: key)
        }
        return table
    }

    static func same<Key: Hashable, Accumulator: Equatable>(
        _ a: KeyedStateTable<Key, WindowPanes<Accumulator>>, _ b: KeyedStateTable<Key, WindowPanes<Accumulator>>
    ) -> Bool {
        let left = a.dictionary, right = b.dictionary
        return left.count == right.count && left.allSatisfy { key, panes in
            right[key].map { $0.windows == panes.windows && $0.accumulators == panes.accumulators } ?? false
        }
    }

    static func roundTrip<Key: Hashable & Codable & Sendable, Accumulator: Codable & Sendable>(
        _ table: KeyedStateTable<Key, WindowPanes<Accumulator>>
    ) throws -> KeyedStateTable<Key, WindowPanes<Accumulator>> {
        let bytes = try WindowTableCodec.encode(table)
        #expect(bytes.first == WindowTableCodec.tag)
        var restored = KeyedStateTable<Key, WindowPanes<Accumulator>>()
        try WindowTableCodec.decode(bytes, into: &restored, keep: { _ in true })
        return restored
    }

    @Test func numbersStructsAndUnshapedAccumulatorsRoundTrip() throws {
        let counts = Self.table(Array(Int64(0)..<500)) { index, slot in Int64(index * 10 + slot) }
        #expect(Self.same(try Self.roundTrip(counts), counts))
        let stats = Self.table((0..<300).map { "key-\($0)" }) { index, slot in Stats(count: index, sum: Double(slot) / 3, last: "ü\(slot)") }
        #expect(Self.same(try Self.roundTrip(stats), stats))
        // Arrays have no one shape: the self-describing fallback.
        let lists = Self.table(Array(0..<200)) { index, slot in Array(0..<(index + slot) % 4) }
        #expect(Self.same(try Self.roundTrip(lists), lists))
        let empty = KeyedStateTable<Int, WindowPanes<Int64>>()
        #expect(try Self.roundTrip(empty).count == 0)
    }

    @Test func aRestoringInstanceKeepsOnlyTheKeysItOwns() throws {
        let table = Self.table(Array(0..<400)) { index, _ in Int64(index) }
        let bytes = try WindowTableCodec.encode(table)
        var even = KeyedStateTable<Int, WindowPanes<Int64>>()
        try WindowTableCodec.decode(bytes, into: &even, keep: { $0 % 2 == 0 })
        #expect(even.dictionary.keys.sorted() == Array(stride(from: 0, to: 400, by: 2)))
        for (key, panes) in even.dictionary {
            #expect(panes.windows == table.dictionary[key]?.windows)
            #expect(panes.accumulators == table.dictionary[key]?.accumulators)
        }
    }

    @Test func aTableWrittenBeforeThisFormatIsStillRead() throws {
        let table = Self.table(Array(0..<100)) { index, slot in Int64(index + slot) }
        let old = try KeyedStateCodec.encode(table)
        #expect(old.first != WindowTableCodec.tag)
        var restored = KeyedStateTable<Int, WindowPanes<Int64>>()
        try WindowTableCodec.decode(old, into: &restored, keep: { _ in true })
        #expect(Self.same(restored, table))
    }

    static func expectDamageThrows<Accumulator: Codable & Sendable>(_ table: KeyedStateTable<Int, WindowPanes<Accumulator>>) throws {
        let bytes = try WindowTableCodec.encode(table)
        var whole = KeyedStateTable<Int, WindowPanes<Accumulator>>()
        try WindowTableCodec.decode(bytes, into: &whole, keep: { _ in true })
        for length in 1..<bytes.count {
            var cut = KeyedStateTable<Int, WindowPanes<Accumulator>>()
            #expect(throws: (any Error).self, "cut at \(length) of \(bytes.count)") {
                try WindowTableCodec.decode(Array(bytes.prefix(length)), into: &cut, keep: { _ in true })
            }
        }
        var longer = KeyedStateTable<Int, WindowPanes<Accumulator>>()
        #expect(throws: (any Error).self) { try WindowTableCodec.decode(bytes + [0], into: &longer, keep: { _ in true }) }
    }

    @Test func damagedBytesThrowInsteadOfTrapping() throws {
        try Self.expectDamageThrows(Self.table(Array(0..<40)) { index, _ in Int64(index) })
        try Self.expectDamageThrows(Self.table(Array(0..<30)) { index, slot in Array(0..<(index + slot) % 3) })
    }
}
