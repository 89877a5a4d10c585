import Foundation
import Testing
@testable import Tributary

@Suite struct StateCoderTests {
    struct Account: Codable, Equatable {
        enum Tier: Codable, Equatable { case free, paid(since: Int), custom(String, discount: Double) }
        var id: UInt64
        var name: String
        var balance: Double
        var tags: [String]
        var limits: [String: Int]
        var history: [Int: [Int8]]
        var tier: Tier
        var nickname: String?
        var active: Bool
    }

    @Test func roundTripsNestedCodableValues() throws {
        let accounts = [
            Account(id: .max, name: "ä ✓", balance: -12.5, tags: [], limits: ["day": 5], history: [-3: [1, -2]], tier: .paid(since: 2020), nickname: nil, active: true),
            Account(id: 0, name: "", balance: .infinity, tags: ["a", "b"], limits: [:], history: [:], tier: .custom("x", discount: 0.1), nickname: "n", active: false),
        ]
        let bytes = try StateCoder.encode(accounts)
        #expect(try StateCoder.decode([Account].self, from: bytes) == accounts)
        var finite = accounts
        finite[1].balance = 1e300
        #expect(try StateCoder.encode(finite).count < (try JSONEncoder().encode(finite)).count)
    }

    @Test func integersKeepTheirFullRange() throws {
        let values: [Int64] = [.min, -1, 0, 1, .max]
        #expect(try StateCoder.decode([Int64].self, from: StateCoder.encode(values)) == values)
    }

    @Test func corruptOrForeignBytesThrowInsteadOfCrashing() throws {
        let bytes = try StateCoder.encode(["key": [1, 2, 3]])
        for cut in 0..<bytes.count {
            #expect(throws: (any Error).self) { try StateCoder.decode([String: [Int]].self, from: Array(bytes.prefix(cut))) }
        }
        #expect(throws: (any Error).self) { try StateCoder.decode([String: String].self, from: bytes) }
        #expect(throws: (any Error).self) { try StateCoder.decode(Int.self, from: [0xFF, 0x01]) }
    }

    @Test func fixedWidthTablesUseColumnsAndRoundTrip() throws {
        var table = KeyedStateTable<Int, Int>()
        for key in 0..<10_000 { table[key] = key * 7 }
        let bytes = try KeyedStateCodec.encode(table)
        #expect(bytes.count == 1 + 24 + 10_000 * 16)
        var decoded = KeyedStateTable<Int, Int>()
        try KeyedStateCodec.decode(bytes, into: &decoded) { _ in true }
        #expect(decoded == table)
        var evens = KeyedStateTable<Int, Int>()
        try KeyedStateCodec.decode(bytes, into: &evens) { $0 % 2 == 0 }
        #expect(evens.count == 5_000)
        #expect(throws: StateDecodingError.self) {
            var truncated = KeyedStateTable<Int, Int>()
            try KeyedStateCodec.decode(Array(bytes.dropLast(3)), into: &truncated) { _ in true }
        }
    }

    @Test func otherTablesGoThroughTheCodableEncoding() throws {
        let table: KeyedStateTable<String, [Double]> = ["a": [1.5], "b": [], "c": [2, 3]]
        var decoded = KeyedStateTable<String, [Double]>()
        try KeyedStateCodec.decode(try KeyedStateCodec.encode(table), into: &decoded) { _ in true }
        #expect(decoded == table)
        #expect(try KeyedStateCodec.decodeTable(KeyedStateCodec.encodeTable(["x": [1.0]]), as: [String: [Double]].self) == ["x": [1.0]])
    }
}
