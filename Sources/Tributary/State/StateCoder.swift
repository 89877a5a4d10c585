import Foundation

/// Tributary's compact binary encoding of `Codable` state for checkpoints.
///
/// A value is a tag byte and its payload: integers as zig-zag varints, doubles as 8 bytes
/// little-endian, strings and byte runs length-prefixed, arrays and objects count-prefixed
/// (object fields keep their keys, so decoding does not depend on field order). Several times
/// smaller and faster than JSON; for tables of fixed-width keys and values (`[Int: Int]`,
/// `[Int: Double]`, …) ``KeyedStateCodec`` skips this and writes the raw little-endian columns.
public enum StateCoder {
    /// Encodes `value`.
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let streaming = StreamEncoder()
        do {
            return try streaming.encode(value)
        } catch where streaming.poisoned || error is StreamEncoder.Unstreamable {
            // A value whose encoding one pass cannot write as the tree would (see
            // StreamEncoder) goes through the tree of nodes; an error of its own comes again.
            let encoder = NodeEncoder()
            try value.encode(to: encoder)
            var writer = ByteWriter()
            writer.write(encoder.root.finish())
            return writer.bytes
        }
    }

    /// Decodes a `Value` from bytes made by ``encode(_:)``.
    /// - Throws: ``StateDecodingError`` when the bytes are truncated or corrupt, a
    ///   `DecodingError` when they hold something other than a `Value`.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try StreamDecoder(bytes: bytes).decode(type)
    }
}

/// State bytes that do not decode: truncated, corrupt, or written for another type.
public struct StateDecodingError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "cannot decode checkpointed state: \(reason)" }
}

/// A decoded or encoded value, independent of its Swift type.
indirect enum StateNode {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([StateNode])
    case object([String: StateNode])
}

// MARK: - Bytes

struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func fixed64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    // The primitives with their tags: one definition for the tree and the one-pass encoder.

    mutating func null() { bytes.append(0) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 2 : 1) }

    mutating func int(_ value: Int64) {
        bytes.append(3)
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func uint(_ value: UInt64) {
        bytes.append(4)
        varint(value)
    }

    mutating func double(_ value: Double) {
        bytes.append(5)
        fixed64(value.bitPattern)
    }

    mutating func string(_ value: String) {
        bytes.append(6)
        text(value)
    }

    /// A length-prefixed UTF-8 run: a string's payload, or an object field's key.
    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func write(_ node: StateNode) {
        switch node {
        case .null: null()
        case .bool(let value): bool(value)
        case .int(let value): int(value)
        case .uint(let value): uint(value)
        case .double(let value): double(value)
        case .string(let value): string(value)
        case .array(let values):
            bytes.append(7)
            varint(UInt64(values.count))
            for value in values { write(value) }
        case .object(let fields):
            bytes.append(8)
            varint(UInt64(fields.count))
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                text(key)
                write(value)
            }
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw StateDecodingError(reason: "the data ends early (at byte \(offset))") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw StateDecodingError(reason: "a number is too long at byte \(offset)") }
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed64() throws -> UInt64 {
        guard offset + 8 <= bytes.count else { throw StateDecodingError(reason: "the data ends early (at byte \(offset))") }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
        offset += 8
        return value
    }

    /// The next `count` bytes.
    mutating func slice(count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - offset else { throw StateDecodingError(reason: "\(count) bytes expected at byte \(offset), \(bytes.count - offset) left") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func count() throws -> Int {
        let value = try varint()
        guard value <= UInt64(bytes.count - offset) * 8 + 8 else { throw StateDecodingError(reason: "an implausible length \(value) at byte \(offset)") }
        return Int(value)
    }

    mutating func string() throws -> String {
        let length = try count()
        guard offset + length <= bytes.count else { throw StateDecodingError(reason: "a string runs past the end") }
        defer { offset += length }
        guard let text = String(validating: bytes[offset..<(offset + length)], as: UTF8.self) else {
            throw StateDecodingError(reason: "a string is not UTF-8 at byte \(offset)")
        }
        return text
    }

    mutating func advance(by count: Int) throws {
        guard count >= 0, count <= bytes.count - offset else { throw StateDecodingError(reason: "\(count) bytes expected at byte \(offset), \(bytes.count - offset) left") }
        offset += count
    }

    /// Moves past a length-prefixed UTF-8 run (a string or a field's key), checking it is UTF-8.
    mutating func skipText() throws {
        let length = try count()
        guard length <= bytes.count - offset else { throw StateDecodingError(reason: "a string runs past the end") }
        let end = offset + length
        var index = offset
        // ASCII (most keys and many strings) needs no decoding to be valid.
        while index < end, bytes[index] < 0x80 { index += 1 }
        if index < end, String(validating: bytes[offset..<end], as: UTF8.self) == nil {
            throw StateDecodingError(reason: "a string is not UTF-8 at byte \(offset)")
        }
        offset = end
    }

    /// Moves past one whole value, checking its structure (tags, lengths, nesting, UTF-8).
    mutating func skipValue(depth: Int = 0) throws {
        guard depth < 512 else { throw StateDecodingError(reason: "nesting too deep") }
        switch try byte() {
        case 0, 1, 2: return
        case 3, 4: _ = try varint()
        case 5: try advance(by: 8)
        case 6: try skipText()
        case 7:
            for _ in 0..<(try count()) { try skipValue(depth: depth + 1) }
        case 8:
            for _ in 0..<(try count()) {
                try skipText()
                try skipValue(depth: depth + 1)
            }
        case let tag:
            throw StateDecodingError(reason: "unknown tag \(tag) at byte \(offset - 1)")
        }
    }
}
