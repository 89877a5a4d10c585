/// Encodes a keyed-state table (`[Key: Value]`) for a checkpoint.
///
/// Tables whose keys and values are fixed-width numbers (`Int`, `Int64`, `UInt64`, `Int32`,
/// `Double`, …) are written as two raw little-endian columns: 1,000,000 `Int` pairs in a few
/// milliseconds. Other tables go through ``StateCoder`` as a key column and a value column.
public enum KeyedStateCodec {
    private static let columnsTag: UInt8 = 0xC1
    private static let codableTag: UInt8 = 0xC2

    // Specialised for the most common tables: generic code pays a witness call per key, which
    // for 1,000,000 keys is most of a checkpoint's encoding and a restore's decoding.
    @_specialize(where Key == Int, Value == Int)
    @_specialize(where Key == Int, Value == Double)
    @usableFromInline
    package static func encode<Key: Hashable & Codable, Value: Codable>(_ table: KeyedStateTable<Key, Value>) throws -> [UInt8] {
        let (keys, values) = table.columns
        #if _endian(little)
        if _isPOD(Key.self), _isPOD(Value.self), Key.self is any FixedWidthStateNumber.Type, Value.self is any FixedWidthStateNumber.Type {
            var writer = ByteWriter()
            writer.bytes.append(columnsTag)
            writer.fixed64(UInt64(table.count))
            writer.fixed64(UInt64(MemoryLayout<Key>.size))
            writer.fixed64(UInt64(MemoryLayout<Value>.size))
            writer.bytes.reserveCapacity(writer.bytes.count + table.count * (MemoryLayout<Key>.size + MemoryLayout<Value>.size))
            keys.withUnsafeBytes { writer.bytes.append(contentsOf: $0) }
            values.withUnsafeBytes { writer.bytes.append(contentsOf: $0) }
            return writer.bytes
        }
        #endif
        return [codableTag] + (try StateCoder.encode(Columns(keys: keys, values: values)))
    }

    /// Decodes a table; `keep` selects the keys this instance owns (after a change of instance
    /// count or process, keys are redistributed by hash).
    @_specialize(where Key == Int, Value == Int)
    @_specialize(where Key == Int, Value == Double)
    @usableFromInline
    package static func decode<Key: Hashable & Codable, Value: Codable>(
        _ bytes: [UInt8], into table: inout KeyedStateTable<Key, Value>, keep: (Key) -> Bool
    ) throws {
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
            bytes.withUnsafeBytes { raw in
                // Room for the keys this instance keeps, not for every key of the part (after
                // scaling out, most belong to other instances).
                var kept = 0
                for index in 0..<count where keep(raw.loadUnaligned(fromByteOffset: keysStart + index * keySize, as: Key.self)) {
                    kept += 1
                }
                table.reserveCapacity(table.count + kept)
                for index in 0..<count {
                    let key = raw.loadUnaligned(fromByteOffset: keysStart + index * keySize, as: Key.self)
                    guard keep(key) else { continue }
                    table.updateValue(raw.loadUnaligned(fromByteOffset: valuesStart + index * valueSize, as: Value.self), forKey: key)
                }
            }
            #else
            throw StateDecodingError(reason: "column-encoded state needs a little-endian machine")
            #endif
        case codableTag:
            let columns = try StateCoder.decode(Columns<Key, Value>.self, from: Array(bytes.dropFirst()))
            guard columns.keys.count == columns.values.count else { throw StateDecodingError(reason: "keys and values differ in count") }
            // Sized first: the keys come in the order of the table that wrote them, and
            // inserting them in that order while the table grows piles them into long probe
            // runs (a 1,000,000-key restore took 80 s instead of a fraction of one).
            table.reserveCapacity(table.count + columns.keys.lazy.filter(keep).count)
            for (key, value) in zip(columns.keys, columns.values) where keep(key) { table.updateValue(value, forKey: key) }
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
    public static func encodeTable<Key: Hashable & Codable, Value: Codable>(_ table: [Key: Value]) throws -> [UInt8] {
        var keyed = KeyedStateTable<Key, Value>(minimumCapacity: table.count)
        for (key, value) in table { keyed[key] = value }
        return try encode(keyed)
    }

    /// Decodes a table made by ``encodeTable(_:)``.
    public static func decodeTable<Key: Hashable & Codable, Value: Codable>(_ bytes: [UInt8], as type: [Key: Value].Type) throws -> [Key: Value] {
        var table = KeyedStateTable<Key, Value>()
        try decode(bytes, into: &table) { _ in true }
        return table.dictionary
    }
}
