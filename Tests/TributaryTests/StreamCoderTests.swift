import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// The one-pass encoder and decoder behind ``StateCoder``: every shape `Codable` produces
/// round-trips, bytes written by the old tree encoder (older checkpoints) still decode, uses a
/// single pass cannot follow fall back to the tree, and damaged bytes throw.
@Suite struct StreamCoderTests {
    /// Any value a `Codable` type can produce: records (objects), lists, and the primitives.
    indirect enum Tree: Codable, Equatable {
        case int(Int64)
        case unsigned(UInt32)
        case text(String)
        case number(Double)
        case flag(Bool)
        case nothing(Int?)
        case list([Tree])
        case record([String: Tree])
        case pair(Tree, label: String)
        case empty

        static func random(_ random: inout TortureRandom, depth: Int = 0) -> Tree {
            switch random.int(0...(depth > 3 ? 5 : 9)) {
            case 0: return .int(Int64.random(in: .min ... .max, using: &random))
            case 1: return .unsigned(UInt32.random(in: 0 ... .max, using: &random))
            case 2: return .text(String((0..<random.int(0...20)).map { _ in "aé✓ 0\n\"".randomElement(using: &random)! }))
            case 3: return .number(Double.random(in: -1e9...1e9, using: &random))
            case 4: return .flag(random.chance(0.5))
            case 5: return .nothing(random.chance(0.5) ? nil : random.int(-5...5))
            case 6: return .list((0..<random.int(0...(depth == 0 ? 300 : 6))).map { _ in Tree.random(&random, depth: depth + 1) })
            case 7:
                var fields: [String: Tree] = [:]
                for _ in 0..<random.int(0...6) { fields["k\(random.int(0...9))"] = Tree.random(&random, depth: depth + 1) }
                return .record(fields)
            case 8: return .pair(Tree.random(&random, depth: depth + 1), label: "l\(random.int(0...3))")
            default: return .empty
            }
        }
    }

    struct Auction: Codable, Equatable {
        var id: Int64
        var seller: Int64
        var price: Int64?
        var bids: [Int]
        var window: Duration
    }

    /// The bytes the tree encoder wrote: what checkpoints written before the one-pass encoder hold.
    static func treeBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = NodeEncoder()
        try value.encode(to: encoder)
        var writer = ByteWriter()
        writer.write(encoder.root.finish())
        return writer.bytes
    }

    @Test(arguments: 0..<40)
    func randomTreesRoundTripAndReadTheTreeEncodersBytes(seed: Int) throws {
        var random = TortureRandom(seed: UInt64(seed) &* 7919)
        let tree = Tree.random(&random)
        let streamed = try StreamEncoder().encode(tree)
        #expect(try StateCoder.decode(Tree.self, from: streamed) == tree)
        let old = try Self.treeBytes(tree)
        #expect(try StateCoder.decode(Tree.self, from: old) == tree)
        #expect(streamed.count == old.count, "same format: only the order of fields may differ")
    }

    @Test func withoutObjectsTheBytesAreTheTreeEncodersExactly() throws {
        let values: [[Int]] = [[], [1], Array(0..<127), Array(0..<128), Array(-20_000..<20_000)]
        #expect(try StreamEncoder().encode(values) == Self.treeBytes(values))
        let strings = ["", "a", String(repeating: "x", count: 300)]
        #expect(try StreamEncoder().encode(strings) == Self.treeBytes(strings))
    }

    @Test func structsWithOptionalsDurationsAndTablesRoundTrip() throws {
        let auctions = (0..<2_000).map { (i: Int) -> Auction in
            let price: Int64? = i % 3 == 0 ? nil : Int64(i * 10)
            return Auction(id: Int64(i), seller: Int64(i % 97), price: price, bids: Array(0..<(i % 5)), window: .milliseconds(i))
        }
        #expect(try StateCoder.decode([Auction].self, from: StateCoder.encode(auctions)) == auctions)
        let byID = [Int64: Auction](uniqueKeysWithValues: auctions.map { ($0.id, $0) })
        #expect(try StateCoder.decode([Int64: Auction].self, from: StateCoder.encode(byID)) == byID)
        let byName = [String: Auction](uniqueKeysWithValues: auctions.prefix(300).map { ("auction \($0.id)", $0) })
        #expect(try StateCoder.decode([String: Auction].self, from: StateCoder.encode(byName)) == byName)
        struct Empty: Codable, Equatable {}
        #expect(try StateCoder.decode([Empty].self, from: StateCoder.encode([Empty(), Empty()])) == [Empty(), Empty()])
        #expect(try StateCoder.decode(Int?.self, from: StateCoder.encode(Int?.none)) == nil)
        #expect(try StateCoder.decode(Set<String>.self, from: StateCoder.encode(Set(["a", "b"]))) == ["a", "b"])
    }

    /// A class hierarchy encodes its superclass through `superEncoder()`, which one pass cannot
    /// place: the value falls back to the tree and still round-trips.
    class Base: Codable {
        var base: Int
        init(base: Int) { self.base = base }
    }

    final class Derived: Base, @unchecked Sendable {
        var own: String
        init(base: Int, own: String) {
            self.own = own
            super.init(base: base)
        }
        enum Keys: String, CodingKey { case own }
        required init(from decoder: any Decoder) throws {
            own = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .own)
            try super.init(from: try decoder.container(keyedBy: Keys.self).superDecoder())
        }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(own, forKey: .own)
            try super.encode(to: container.superEncoder())
        }
    }

    @Test func aSuperEncoderFallsBackToTheTree() throws {
        #expect(throws: StreamEncoder.Unstreamable.self) { try StreamEncoder().encode(Derived(base: 4, own: "x")) }
        let decoded = try StateCoder.decode(Derived.self, from: StateCoder.encode(Derived(base: 4, own: "x")))
        #expect(decoded.base == 4 && decoded.own == "x")
    }

    /// A type that writes a field of its outer container after filling a nested one, and then
    /// the nested one again: the second write cannot be placed in one pass.
    struct Interleaved: Codable, Equatable {
        var a: Int
        var b: [Int]
        enum Keys: String, CodingKey { case a, b }
        init(a: Int, b: [Int]) { (self.a, self.b) = (a, b) }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            (a, b) = (try container.decode(Int.self, forKey: .a), try container.decode([Int].self, forKey: .b))
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var list = container.nestedUnkeyedContainer(forKey: .b)
            try list.encode(b[0])
            try container.encode(a, forKey: .a)
            for value in b.dropFirst() { try list.encode(value) }
        }
    }

    @Test func aContainerWrittenAfterItClosedFallsBackToTheTree() throws {
        let value = Interleaved(a: 7, b: [1, 2, 3])
        #expect(throws: StreamEncoder.Unstreamable.self) { try StreamEncoder().encode(value) }
        #expect(try StateCoder.decode(Interleaved.self, from: StateCoder.encode(value)) == value)
    }

    @Test func structsDecodeFromTheTreesBytesWithSortedKeys() throws {
        let auctions = (0..<50).map { Auction(id: Int64($0), seller: 7, price: $0 % 2 == 0 ? nil : 5, bids: [$0], window: .seconds($0)) }
        #expect(try StateCoder.decode([Auction].self, from: Self.treeBytes(auctions)) == auctions)
        let streaming = StreamEncoder()
        let bytes = try streaming.encode(auctions)
        #expect(!streaming.poisoned, "plain structs are written in one pass")
        #expect(try StateCoder.decode([Auction].self, from: bytes) == auctions)
    }

    struct Key: CodingKey {
        let stringValue: String
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// Writes `x` twice: the tree kept the last value, and so must the state.
    struct Twice: Codable {
        var x: Int
        init(x: Int) { self.x = x }
        init(from decoder: any Decoder) throws { x = try decoder.container(keyedBy: Key.self).decode(Int.self, forKey: Key("x")) }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(0, forKey: Key("x"))
            try container.encode(x, forKey: Key("x"))
        }
    }

    @Test func aKeyWrittenTwiceKeepsTheLastValueAsTheTreeDid() throws {
        #expect(throws: StreamEncoder.Unstreamable.self) { try StreamEncoder().encode(Twice(x: 7)) }
        #expect(try StateCoder.decode(Twice.self, from: StateCoder.encode(Twice(x: 7))).x == 7)
        let many = Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", $0) })
        #expect(try StateCoder.decode([String: Int].self, from: StreamEncoder().encode(many)) == many, "a large object checks its keys in a set")
    }

    /// A value whose encoding fails after writing part of itself, caught by its parent, which
    /// goes on: the tree left the failed field out, and so must the state.
    struct Failing: Encodable {
        struct Refused: Error {}
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: Key("partial"))
            throw Refused()
        }
    }

    struct Forgiving: Encodable {
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try? container.encode(Failing(), forKey: Key("pet"))
            try container.encode(1, forKey: Key("n"))
        }
    }

    @Test func aFailedWriteThatWasCaughtLeavesNothingBehind() throws {
        #expect(throws: StreamEncoder.Unstreamable.self) { try StreamEncoder().encode(Forgiving()) }
        #expect(try StateCoder.decode([String: Int].self, from: StateCoder.encode(Forgiving())) == ["n": 1])
        #expect(throws: Failing.Refused.self) { try StateCoder.encode(Failing()) }
    }

    /// A base class with nothing to write (its optional is nil) under `superEncoder()`.
    class Quiet: Codable {
        var note: String?
        init() {}
    }

    final class Loud: Quiet, @unchecked Sendable {
        var own = "x"
        override init() { super.init() }
        required init(from decoder: any Decoder) throws {
            own = try decoder.container(keyedBy: Key.self).decode(String.self, forKey: Key("own"))
            try super.init(from: try decoder.container(keyedBy: Key.self).superDecoder())
        }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(own, forKey: Key("own"))
            try super.encode(to: container.superEncoder())
        }
    }

    @Test func aSuperEncoderThatWritesNothingStillRoundTrips() throws {
        let decoded = try StateCoder.decode(Loud.self, from: StateCoder.encode(Loud()))
        #expect(decoded.own == "x" && decoded.note == nil)
    }

    struct SuperOptional: Decodable {
        var base: Int?
        init(from decoder: any Decoder) throws {
            base = try decoder.container(keyedBy: Key.self).superDecoder().singleValueContainer().decode(Int?.self)
        }
    }

    @Test func aMissingSuperReadsAsNull() throws {
        #expect(try StateCoder.decode(SuperOptional.self, from: StateCoder.encode(["own": 1])).base == nil)
    }

    /// Reads a large object's keys in the reverse of their written order.
    struct Backwards: Decodable {
        var values: [Int] = []
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for index in (0..<500).reversed() { values.append(try container.decode(Int.self, forKey: Key("k\(index)"))) }
        }
    }

    @Test func aLargeObjectIsReadInAnyOrder() throws {
        let object = Dictionary(uniqueKeysWithValues: (0..<500).map { ("k\($0)", $0 * 3) })
        #expect(try StateCoder.decode(Backwards.self, from: StateCoder.encode(object)).values == (0..<500).reversed().map { $0 * 3 })
    }

    /// The outer value's container, kept and written to from inside the inner value's
    /// `encode(to:)`: the write lands where the tree puts it.
    final class Kept: @unchecked Sendable {
        var container: KeyedEncodingContainer<Key>?
    }

    struct Inner: Encodable {
        let kept: Kept
        func encode(to encoder: any Encoder) throws {
            try kept.container?.encode(5, forKey: Key("sneaky"))
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(1, forKey: Key("v"))
        }
    }

    struct Outer: Encodable {
        func encode(to encoder: any Encoder) throws {
            let kept = Kept()
            var container = encoder.container(keyedBy: Key.self)
            kept.container = container  // a copy writing to the same object
            try container.encode(Inner(kept: kept), forKey: Key("child"))
        }
    }

    struct OuterRead: Decodable {
        var v: Int
        var sneaky: Int
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            v = try container.nestedContainer(keyedBy: Key.self, forKey: Key("child")).decode(Int.self, forKey: Key("v"))
            sneaky = try container.decode(Int.self, forKey: Key("sneaky"))
        }
    }

    @Test func aContainerWrittenFromInsideAnotherValueFallsBackToTheTree() throws {
        #expect(throws: StreamEncoder.Unstreamable.self) { try StreamEncoder().encode(Outer()) }
        let read = try StateCoder.decode(OuterRead.self, from: StateCoder.encode(Outer()))
        #expect(read.v == 1 && read.sneaky == 5)
    }

    @Test func stringsAndKeysThatAreNotUTF8Throw() {
        #expect(throws: StateDecodingError.self) { try StateCoder.decode([String: Int].self, from: [8, 1, 1, 0xFF, 3, 2]) }
        #expect(throws: StateDecodingError.self) { try StateCoder.decode(String.self, from: [6, 1, 0xFF]) }
        #expect(throws: StateDecodingError.self) { try StateCoder.decode([String].self, from: [7, 1, 6, 2, 0xC3, 0x28]) }
    }

    @Test func damagedBytesThrowAndNeverCrash() throws {
        var random = TortureRandom(seed: 99)
        let bytes = try StateCoder.encode((0..<30).map { _ in Tree.random(&random, depth: 2) })
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)) {
            #expect(throws: (any Error).self) { try StateCoder.decode([Tree].self, from: Array(bytes.prefix(cut))) }
        }
        for _ in 0..<300 {
            var damaged = bytes
            damaged[random.int(0...(bytes.count - 1))] ^= UInt8(random.int(1...255))
            _ = try? StateCoder.decode([Tree].self, from: damaged)
        }
        #expect(throws: StateDecodingError.self) { try StateCoder.decode(Int.self, from: [3, 2, 0]) }
        var deep: [UInt8] = []
        for _ in 0..<2_000 { deep += [7, 1] }  // arrays of one array, 2,000 deep
        #expect(throws: StateDecodingError.self) { try StateCoder.decode([Tree].self, from: deep) }
    }
}
