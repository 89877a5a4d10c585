import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Keyed-state tables whose keys and values each have one shape are checkpointed as shaped
/// columns (the shape once, then bare rows); everything else still round-trips through the
/// self-describing format; a changed struct decodes as `Codable` would or fails naming the
/// field; damaged bytes throw and never crash.
@Suite struct ShapedColumnTests {
    enum Side: String, Codable, Equatable { case buy, sell }

    struct Totals: Codable, Equatable {
        var count: Int
        var sum: Int64
        var last: Double
        var open: Bool
        var name: String
        var small: UInt8
        var ratio: Float
        var side: Side
        var seen: Date
    }

    static func totals(_ key: Int) -> Totals {
        Totals(
            count: key % 1000, sum: Int64(key) &* -7, last: Double(key) / 3, open: key % 2 == 0, name: "n\(key)é", small: UInt8(key % 256),
            ratio: Float(key) / 8, side: key % 3 == 0 ? .buy : .sell, seen: Date(timeIntervalSince1970: Double(key)))
    }

    static let shapedTag: UInt8 = 0xC3
    static let codableTag: UInt8 = 0xC2

    func roundTrip<Key: Hashable & Codable & Sendable, Value: Codable & Equatable & Sendable>(_ table: [Key: Value]) throws -> (tag: UInt8, decoded: [Key: Value]) {
        let bytes = try KeyedStateCodec.encodeTable(table)
        return (try #require(bytes.first), try KeyedStateCodec.decodeTable(bytes, as: [Key: Value].self))
    }

    @Test func structValuesOfPrimitiveFieldsAreWrittenAsShapedRows() throws {
        let table = Dictionary(uniqueKeysWithValues: (0..<5_000).map { ($0, Self.totals($0)) })
        let (tag, decoded) = try roundTrip(table)
        #expect(tag == Self.shapedTag)
        #expect(decoded == table)

        let byName = Dictionary(uniqueKeysWithValues: (0..<2_000).map { ("key \($0) ✓", $0 * 3) })
        let named = try roundTrip(byName)
        #expect(named.tag == Self.shapedTag, "String keys with Int values")
        #expect(named.decoded == byName)

        let sides = Dictionary(uniqueKeysWithValues: (0..<100).map { (Int64($0), $0 % 2 == 0 ? Side.buy : .sell) })
        let enums = try roundTrip(sides)
        #expect(enums.tag == Self.shapedTag, "raw-valued enum values are one shape")
        #expect(enums.decoded == sides)

        let empty: [String: Totals] = [:]
        #expect(try roundTrip(empty).decoded.isEmpty)
    }

    struct Sometimes: Codable, Equatable {
        var id: Int
        var note: String?
    }

    struct Nested: Codable, Equatable {
        var id: Int
        var inner: Sometimes
    }

    /// Writes its fields in an order that depends on the value.
    struct Reordering: Codable, Equatable {
        var a: Int
        var b: Int
        enum CodingKeys: String, CodingKey { case a, b }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if a % 2 == 0 {
                try container.encode(a, forKey: .a)
                try container.encode(b, forKey: .b)
            } else {
                try container.encode(b, forKey: .b)
                try container.encode(a, forKey: .a)
            }
        }
    }

    /// Catches the error its nested container throws and goes on, as a careless type might.
    struct Swallowing: Codable, Equatable {
        var id: Int
        var list: [Int]
        enum CodingKeys: String, CodingKey { case id, list }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try? container.encode(list, forKey: .list)
        }
    }

    /// Values of more than one shape, or shapes a shaped column cannot hold, use the
    /// self-describing format and round-trip exactly.
    @Test func valuesOfManyShapesFallBackToTheSelfDescribingFormat() throws {
        let optional = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Sometimes(id: $0, note: $0 % 5 == 0 ? nil : "n\($0)")) })
        let nested = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Nested(id: $0, inner: Sometimes(id: -$0, note: "x"))) })
        let reordering = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Reordering(a: $0, b: $0 * 10)) })
        let arrays = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Array(0..<($0 % 4))) })
        let swallowing = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Swallowing(id: $0, list: [$0, 1])) })
        #expect(try roundTrip(optional) == (Self.codableTag, optional))
        #expect(try roundTrip(nested) == (Self.codableTag, nested))
        #expect(try roundTrip(reordering) == (Self.codableTag, reordering))
        #expect(try roundTrip(arrays) == (Self.codableTag, arrays))
        #expect(try roundTrip(swallowing) == (Self.codableTag, swallowing))
        let allPresent = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Sometimes(id: $0, note: "n\($0)")) })
        #expect(try roundTrip(allPresent) == (Self.shapedTag, allPresent), "an optional that is always there is one shape")
    }

    struct Failing: Codable, Equatable {
        struct Refused: Error {}
        var id: Int
        func encode(to encoder: any Encoder) throws {
            if id == 7 { throw Refused() }
            var container = encoder.singleValueContainer()
            try container.encode(id)
        }
    }

    @Test func anErrorOfTheValuesOwnEncodingIsThrown() throws {
        let table = Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, Failing(id: $0)) })
        #expect(throws: Failing.Refused.self) { try KeyedStateCodec.encodeTable(table) }
    }

    struct Before: Codable {
        var count: Int
        var sum: Int64
        var gone: String
    }

    struct Added: Codable, Equatable {
        var count: Int
        var sum: Int64
        var extra: Int?
    }

    struct Retyped: Codable {
        var count: String
    }

    struct Narrowed: Codable {
        var count: Int8
    }

    struct Missing: Codable {
        var count: Int
        var total: Int
    }

    /// A struct changed between the checkpoint and the restore decodes as `Codable` would: a
    /// new optional field is nil, a removed field is ignored; a field of another type, out of
    /// range, or missing fails with an error that names it.
    @Test func aChangedStructDecodesAsCodableWouldOrNamesTheField() throws {
        let bytes = try KeyedStateCodec.encodeTable(Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, Before(count: $0 * 100, sum: 5, gone: "g")) }))
        #expect(bytes.first == Self.shapedTag)
        let added = try KeyedStateCodec.decodeTable(bytes, as: [Int: Added].self)
        #expect(added[3] == Added(count: 300, sum: 5, extra: nil))
        #expect(added.count == 10)

        let retyped = #expect(throws: DecodingError.self) { try KeyedStateCodec.decodeTable(bytes, as: [Int: Retyped].self) }
        guard case .typeMismatch(_, let context)? = retyped else { Issue.record("expected a type mismatch, got \(String(describing: retyped))"); return }
        #expect(context.debugDescription.contains("expected String, found a signed integer"))

        let narrowed = #expect(throws: DecodingError.self) { try KeyedStateCodec.decodeTable(bytes, as: [Int: Narrowed].self) }
        guard case .dataCorrupted(let corrupted)? = narrowed else { Issue.record("expected corrupted data, got \(String(describing: narrowed))"); return }
        #expect(corrupted.debugDescription.contains("does not fit in Int8"))
        #expect(corrupted.codingPath.map(\.stringValue) == ["count"])

        let missing = #expect(throws: DecodingError.self) { try KeyedStateCodec.decodeTable(bytes, as: [Int: Missing].self) }
        guard case .keyNotFound(let key, _)? = missing else { Issue.record("expected a missing key, got \(String(describing: missing))"); return }
        #expect(key.stringValue == "total")
    }

    /// Large columns are encoded and decoded in parts at once; here the parts are made small
    /// so that a test can have several.
    @Test func columnsInPartsRoundTripAndAgreeOnTheirShape() throws {
        let values = (0..<47).map { Self.totals($0) }
        var writer = ByteWriter()
        try ShapedColumnEncoder.encode(values, into: &writer, parts: 3, minimumPerPart: 5)
        var single = ByteWriter()
        try ShapedColumnEncoder.encode(values, into: &single, parts: 1)
        #expect(writer.bytes == single.bytes, "parts write what one pass writes")
        var reader = ByteReader(bytes: writer.bytes)
        let decoded = try ShapedColumnDecoder.decode(Totals.self, count: values.count, from: &reader, parts: 3, minimumPerPart: 5)
        #expect(decoded == values)
        #expect(reader.isAtEnd)

        // Only the last part's values write their fields in another order: each part agrees
        // with itself, the parts do not agree with each other.
        let flipping = (0..<30).map { Reordering(a: $0 < 20 ? $0 * 2 : $0 * 2 + 1, b: $0) }
        var mixed = ByteWriter()
        #expect(throws: ShapedColumn.Unshaped.self) { try ShapedColumnEncoder.encode(flipping, into: &mixed, parts: 3, minimumPerPart: 5) }
        let table = Dictionary(uniqueKeysWithValues: flipping.map { ($0.b, $0) })
        #expect(try roundTrip(table) == (Self.codableTag, table))

        // A row that does not decode, in the second of three parts: its error, not another's.
        struct Small: Codable, Equatable { var count: Int8 }
        let big = (0..<30).map { Before(count: $0 == 13 ? 1_000 : $0, sum: 1, gone: "") }
        var bigWriter = ByteWriter()
        try ShapedColumnEncoder.encode(big, into: &bigWriter, parts: 3, minimumPerPart: 5)
        var bigReader = ByteReader(bytes: bigWriter.bytes)
        let failure = #expect(throws: DecodingError.self) {
            try ShapedColumnDecoder.decode(Small.self, count: big.count, from: &bigReader, parts: 3, minimumPerPart: 5)
        }
        guard case .dataCorrupted(let context)? = failure else { Issue.record("expected corrupted data, got \(String(describing: failure))"); return }
        #expect(context.debugDescription.contains("does not fit in Int8"))
    }

    /// A property whose encoding writes nothing (a cache it rebuilds, say).
    struct Transient: Codable, Equatable, Sendable {
        var value = 0
        init() {}
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
        static func == (lhs: Transient, rhs: Transient) -> Bool { true }
    }

    struct Cached: Codable, Equatable, Sendable {
        var id: Int
        var cache = Transient()
    }

    struct Pair: Codable, Hashable, Sendable {
        var region: String
        var shard: Int
    }

    /// A value whose field writes nothing is not one shape: through the self-describing
    /// format, which writes an empty object there, it restores. Struct keys and columns of
    /// booleans and floats are shaped.
    @Test func fieldsThatWriteNothingFallBackAndOtherShapesRoundTrip() throws {
        let cached = Dictionary(uniqueKeysWithValues: (0..<20).map { ($0, Cached(id: $0)) })
        #expect(try roundTrip(cached) == (Self.codableTag, cached))
        let pairs = Dictionary(uniqueKeysWithValues: (0..<200).map { (Pair(region: "r\($0 % 7)", shard: $0), $0 % 3 == 0) })
        #expect(try roundTrip(pairs) == (Self.shapedTag, pairs))
        let floats = Dictionary(uniqueKeysWithValues: (0..<200).map { ("k\($0)", Float($0) / 3) })
        #expect(try roundTrip(floats) == (Self.shapedTag, floats))
    }

    /// Keeps its decoder and reads from it later: legal `Codable`, unusual in state.
    struct Deferred: Decodable, @unchecked Sendable {
        let decoder: any Decoder
        init(from decoder: any Decoder) throws { self.decoder = decoder }
        func value() throws -> Totals { try Totals(from: decoder) }
    }

    /// A decoder kept past its value's `init(from:)` throws when used, instead of reading
    /// freed memory or another row.
    @Test func aDecoderKeptPastItsValueThrowsWhenUsed() throws {
        var writer = ByteWriter()
        try ShapedColumnEncoder.encode((0..<10).map { Self.totals($0) }, into: &writer)
        var reader = ByteReader(bytes: writer.bytes)
        let kept = try ShapedColumnDecoder.decode(Deferred.self, count: 10, from: &reader)
        #expect(throws: DecodingError.self) { try kept[3].value() }
    }

    @Test func damagedBytesThrowAndNeverCrash() throws {
        let table = Dictionary(uniqueKeysWithValues: (0..<300).map { ("k\($0)", Self.totals($0)) })
        let bytes = try KeyedStateCodec.encodeTable(table)
        #expect(bytes.first == Self.shapedTag)
        for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 300)) {
            #expect(throws: (any Error).self) { try KeyedStateCodec.decodeTable(Array(bytes.prefix(cut)), as: [String: Totals].self) }
        }
        #expect(throws: StateDecodingError.self) { try KeyedStateCodec.decodeTable(bytes + [0], as: [String: Totals].self) }
        // Damage anywhere may decode (a payload's bits are any number) or throw, never trap.
        var random = TortureRandom(seed: 7)
        for _ in 0..<2_000 {
            var damaged = bytes
            for _ in 0..<random.int(1...3) { damaged[random.int(0...(bytes.count - 1))] ^= UInt8(random.int(1...255)) }
            _ = try? KeyedStateCodec.decodeTable(damaged, as: [String: Totals].self)
        }
        // Damage to the entry count, the layouts, the field names or their kinds — everything
        // but the rows — throws, or reads back the same table (a kind damaged from signed to
        // unsigned still reads a non-negative count).
        let integers = Dictionary(uniqueKeysWithValues: (0..<50).map { ($0, Self.totals($0)) })
        let encoded = try KeyedStateCodec.encodeTable(integers)
        let valueHeader = 1 + 8 + 2 + 50 * 8
        let rowsStart = try #require(Self.rowsStart(encoded, valueHeaderAt: valueHeader))
        for index in Array(0..<11) + Array(valueHeader..<rowsStart) {
            for flip in [UInt8(1), 0x80, 0xFF] {
                var damaged = encoded
                damaged[index] ^= flip
                if let decoded = try? KeyedStateCodec.decodeTable(damaged, as: [Int: Totals].self) {
                    #expect(decoded == integers, "byte \(index) ^ \(flip) decoded to another table")
                }
            }
        }
        // A count that claims more rows than the bytes hold is refused before any memory is reserved.
        var huge = bytes
        huge.replaceSubrange(1..<9, with: withUnsafeBytes(of: UInt64(1 << 60).littleEndian, Array.init))
        #expect(throws: StateDecodingError.self) { try KeyedStateCodec.decodeTable(huge, as: [String: Totals].self) }
    }

    /// Where the rows of the value column that starts at `valueHeaderAt` begin: after its
    /// layout, field count, and each field's name and kind.
    static func rowsStart(_ bytes: [UInt8], valueHeaderAt start: Int) -> Int? {
        var reader = ByteReader(bytes: bytes)
        reader.offset = start + 1
        guard let fields = try? reader.count() else { return nil }
        for _ in 0..<fields {
            guard (try? reader.string()) != nil, (try? reader.byte()) != nil else { return nil }
        }
        return reader.offset
    }
}
