/// Encodes a keyed-state table (`[Key: Value]`) for a checkpoint.
///
/// Tables whose keys and values are fixed-width numbers (`Int`, `Int64`, `UInt64`, `Int32`,
/// `Double`, …) are written as two raw little-endian columns: 1,000,000 `Int` pairs in a few
/// milliseconds. Tables whose keys and values each have one shape (a `String`, a struct of
/// primitive fields, …) are written as shaped columns: the shape once, then bare rows. Other
/// tables go through ``StateCoder`` as a key column and a value column.
public enum KeyedStateCodec {
    private static let columnsTag: UInt8 = 0xC1
    private static let codableTag: UInt8 = 0xC2
    private static let shapedTag: UInt8 = 0xC3

    /// Encodes `table`. Inlinable so that the pass over the table is specialised for the
    /// caller's key and value types: through generic code it was a third of a 1,000,000-key
    /// struct table's encoding.
    @inlinable
    package static func encode<Key: Hashable & Codable & Sendable, Value: Codable & Sendable>(_ table: KeyedStateTable<Key, Value>) throws -> [UInt8] {
        let (keys, values) = table.columns
        return try encode(keys: keys, values: values)
    }

    // Specialised for the most common tables: generic code pays a witness call per key, which
    // for 1,000,000 keys is most of a checkpoint's encoding and a restore's decoding.
    @_specialize(where Key == Int, Value == Int)
    @_specialize(where Key == Int, Value == Double)
    @usableFromInline
    static func encode<Key: Codable & Sendable, Value: Codable & Sendable>(keys: [Key], values: [Value]) throws -> [UInt8] {
        let count = keys.count
        #if _endian(little)
        if _isPOD(Key.self), _isPOD(Value.self), Key.self is any FixedWidthStateNumber.Type, Value.self is any FixedWidthStateNumber.Type {
            var writer = ByteWriter()
            writer.bytes.append(columnsTag)
            writer.fixed64(UInt64(count))
            writer.fixed64(UInt64(MemoryLayout<Key>.size))
            writer.fixed64(UInt64(MemoryLayout<Value>.size))
            writer.bytes.reserveCapacity(writer.bytes.count + count * (MemoryLayout<Key>.size + MemoryLayout<Value>.size))
            keys.withUnsafeBytes { writer.bytes.append(contentsOf: $0) }
            values.withUnsafeBytes { writer.bytes.append(contentsOf: $0) }
            return writer.bytes
        }
        #endif
        var writer = ByteWriter()
        writer.bytes.append(shapedTag)
        writer.fixed64(UInt64(count))
        do {
            try ShapedColumnEncoder.encode(keys, into: &writer)
            try ShapedColumnEncoder.encode(values, into: &writer)
            return writer.bytes
        } catch is ShapedColumn.Unshaped {
            // Keys or values of more than one shape: the self-describing encoding holds any.
            return [codableTag] + (try StateCoder.encode(Columns(keys: keys, values: values)))
        }
    }

    /// Decodes a table; `keep` selects the keys this instance owns (after a change of instance
    /// count or process, keys are redistributed by hash). Inlinable so that the inserts are
    /// specialised for the caller's types: through generic code they were two thirds of a
    /// 1,000,000-key struct table's restore.
    @inlinable
    package static func decode<Key: Hashable & Codable & Sendable, Value: Codable & Sendable>(
        _ bytes: [UInt8], into table: inout KeyedStateTable<Key, Value>, keep: (Key) -> Bool
    ) throws {
        let (keys, values) = try columns(of: bytes, as: Key.self, Value.self)
        // Sized first: the keys come in the order of the table that wrote them, and inserting
        // them in that order while the table grows piles them into long probe runs (a
        // 1,000,000-key restore took 80 s instead of a fraction of one).
        var kept = 0
        for key in keys where keep(key) { kept += 1 }
        table.reserveCapacity(table.count + kept)
        for index in keys.indices where keep(keys[index]) { table.updateValue(values[index], forKey: keys[index]) }
    }

    /// The keys and values of an encoded table, in the order they were written.
    @_specialize(where Key == Int, Value == Int)
    @_specialize(where Key == Int, Value == Double)
    @usableFromInline
    static func columns<Key: Codable & Sendable, Value: Codable & Sendable>(of bytes: [UInt8], as keyType: Key.Type, _ valueType: Value.Type) throws -> (keys: [Key], values: [Value]) {
        guard let tag = bytes.first else { throw StateDecodingError(reason: "empty keyed state") }
        switch tag {
        case columnsTag:
            #if _endian(little)
            var reader = ByteReader(bytes: bytes)
            reader.offset = 1
            // Checked conversions: a corrupt header must throw, not trap.
            guard let count = Int(exactly: try reader.fixed64()), let keySize = Int(exactly: try reader.fixed64()),
                let valueSize = Int(exactly: try reader.fixed64())
            else {
                throw StateDecodingError(reason: "the keyed state columns' header is corrupt")
            }
            // Only numbers are written as columns: any bit pattern of them is a valid value,
            // which is not true of every plain-data type (an enum, a Bool).
            guard keySize == MemoryLayout<Key>.size, valueSize == MemoryLayout<Value>.size, _isPOD(Key.self), _isPOD(Value.self),
                Key.self is any FixedWidthStateNumber.Type, Value.self is any FixedWidthStateNumber.Type,
                count >= 0, count <= (bytes.count - reader.offset) / max(1, keySize + valueSize),
                reader.offset + count * (keySize + valueSize) == bytes.count
            else {
                throw StateDecodingError(reason: "the keyed state columns do not match \(Key.self) → \(Value.self) or are truncated")
            }
            let keysStart = reader.offset
            let valuesStart = keysStart + count * keySize
            return bytes.withUnsafeBytes { raw in
                let keys = (0..<count).map { raw.loadUnaligned(fromByteOffset: keysStart + $0 * keySize, as: Key.self) }
                let values = (0..<count).map { raw.loadUnaligned(fromByteOffset: valuesStart + $0 * valueSize, as: Value.self) }
                return (keys, values)
            }
            #else
            throw StateDecodingError(reason: "column-encoded state needs a little-endian machine")
            #endif
        case shapedTag:
            var reader = ByteReader(bytes: bytes)
            reader.offset = 1
            guard let count = Int(exactly: try reader.fixed64()), count <= bytes.count else {
                throw StateDecodingError(reason: "the keyed state's entry count is corrupt")
            }
            let keys = try ShapedColumnDecoder.decode(Key.self, count: count, from: &reader)
            let values = try ShapedColumnDecoder.decode(Value.self, count: count, from: &reader)
            guard reader.isAtEnd else { throw StateDecodingError(reason: "\(bytes.count - reader.offset) bytes after the keyed state") }
            return (keys, values)
        case codableTag:
            let columns = try StateCoder.decode(Columns<Key, Value>.self, from: Array(bytes.dropFirst()))
            guard columns.keys.count == columns.values.count else { throw StateDecodingError(reason: "keys and values differ in count") }
            return (columns.keys, columns.values)
        default:
            throw StateDecodingError(reason: "unknown keyed state format \(tag)")
        }
    }

    struct Columns<Key: Codable, Value: Codable>: Codable {
        var keys: [Key]
        var values: [Value]
    }
}

/// Numbers whose bytes can be copied as they are.
protocol FixedWidthStateNumber {}
extension Int: FixedWidthStateNumber {}
extension Int64: FixedWidthStateNumber {}
extension Int32: FixedWidthStateNumber {}
extension Int16: FixedWidthStateNumber {}
extension Int8: FixedWidthStateNumber {}
extension UInt: FixedWidthStateNumber {}
extension UInt64: FixedWidthStateNumber {}
extension UInt32: FixedWidthStateNumber {}
extension UInt16: FixedWidthStateNumber {}
extension UInt8: FixedWidthStateNumber {}
extension Double: FixedWidthStateNumber {}
extension Float: FixedWidthStateNumber {}

extension KeyedStateCodec {
    /// Encodes a keyed-state table the way checkpoints do (for benchmarks and tools).
    public static func encodeTable<Key: Hashable & Codable & Sendable, Value: Codable & Sendable>(_ table: [Key: Value]) throws -> [UInt8] {
        var keyed = KeyedStateTable<Key, Value>(minimumCapacity: table.count)
        for (key, value) in table { keyed[key] = value }
        return try encode(keyed)
    }

    /// Decodes a table made by ``encodeTable(_:)``.
    public static func decodeTable<Key: Hashable & Codable & Sendable, Value: Codable & Sendable>(_ bytes: [UInt8], as type: [Key: Value].Type) throws -> [Key: Value] {
        var table = KeyedStateTable<Key, Value>()
        try decode(bytes, into: &table) { _ in true }
        return table.dictionary
    }
}
