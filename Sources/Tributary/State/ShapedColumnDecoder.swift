/// Reads a ``ShapedColumn`` back. Each row is measured against the shape before its value's
/// `init(from:)` runs, so a truncated or corrupt column fails with ``StateDecodingError``
/// rather than reading past its end; a shape that does not fit the type being decoded (a
/// field missing, of another kind, or out of range) fails with a `DecodingError` that names it.
///
/// As with the encoder, the containers reach this state by an unsafe pointer that lives for
/// one ``decode(_:count:from:)`` (no retain and release per field), and the bytes are read
/// through a raw buffer that lives as long.
struct ShapedColumnDecoder {
    let bytes: UnsafeRawBufferPointer
    let layout: ShapedColumn.Layout
    let fields: [ShapedColumn.Field]
    let singleKind: ShapedColumn.Kind
    /// Where each field's payload starts in the current row.
    var offsets: [Int]
    /// Where the next lookup by name starts: fields decoded in the order they were encoded
    /// (what synthesized `Codable` does) are each found at once.
    var guess = 0

    private init(bytes: UnsafeRawBufferPointer, layout: ShapedColumn.Layout, fields: [ShapedColumn.Field], singleKind: ShapedColumn.Kind) {
        self.bytes = bytes
        self.layout = layout
        self.fields = fields
        self.singleKind = singleKind
        self.offsets = Array(repeating: 0, count: max(1, fields.count))
    }

    /// Reads `count` values of `T` from `reader`, which is left after the column.
    static func decode<T: Decodable>(_ type: T.Type, count: Int, from reader: inout ByteReader) throws -> [T] {
        guard let layout = ShapedColumn.Layout(rawValue: try reader.byte()) else {
            throw StateDecodingError(reason: "unknown column layout at byte \(reader.offset - 1)")
        }
        var fields: [ShapedColumn.Field] = []
        var singleKind = ShapedColumn.Kind.int
        switch layout {
        case .single:
            singleKind = try kind(&reader)
        case .fields:
            let fieldCount = try reader.count()
            for _ in 0..<fieldCount {
                let name = try reader.string()
                fields.append(ShapedColumn.Field(name: name, kind: try kind(&reader)))
            }
        }
        // Every row takes at least a byte unless the shape has no fields: a count beyond what
        // the bytes can hold is corrupt, not a reason to reserve memory for it.
        let rowBytes = layout == .fields && fields.isEmpty ? 0 : 1
        guard count >= 0, count <= reader.bytes.count, count * rowBytes <= reader.bytes.count - reader.offset else {
            throw StateDecodingError(reason: "\(count) values cannot fit in the \(reader.bytes.count - reader.offset) bytes left")
        }
        if layout == .single, let read = try primitives(T.self, kind: singleKind, count: count, from: &reader) { return read }
        let start = reader.offset
        let parts = count >= ShapedColumnEncoder.minimumPerPart * 2 ? max(1, min(partCount, count / ShapedColumnEncoder.minimumPerPart)) : 1
        let (values, end) = try reader.bytes.withUnsafeBytes { raw -> ([T], Int) in
            let shape = ShapedColumnDecoder(bytes: raw, layout: layout, fields: fields, singleKind: singleKind)
            if parts == 1 { return try shape.rows(T.self, count: count, at: start) }
            // Where each part's first row starts: one pass over the lengths, no decoding.
            var measuring = shape
            var starts: [Int] = []
            var offset = start
            for part in 0..<parts {
                let rows = ShapedColumn.range(of: part, in: parts, count: count)
                starts.append(offset)
                for _ in rows { offset = try measuring.locate(at: offset) }
            }
            let decoded = ShapedColumn.inParallel(parts) { part in
                Result { try shape.rows(T.self, count: ShapedColumn.range(of: part, in: parts, count: count).count, at: starts[part]) }
            }
            var values: [T] = []
            values.reserveCapacity(count)
            for result in decoded { values.append(contentsOf: try result.get().0) }
            return (values, offset)
        }
        reader.offset = end
        return values
    }

    /// How many parts a large column is decoded in at once.
    static var partCount: Int { ShapedColumnEncoder.partCount }

    /// Decodes `count` rows from `start`; returns them and where they end.
    func rows<T: Decodable>(_ type: T.Type, count: Int, at start: Int) throws -> ([T], Int) {
        let decoder = UnsafeMutablePointer<ShapedColumnDecoder>.allocate(capacity: 1)
        decoder.initialize(to: self)
        defer { decoder.deinitialize(count: 1).deallocate() }
        var values: [T] = []
        values.reserveCapacity(count)
        var offset = start
        for _ in 0..<count {
            offset = try decoder.pointee.locate(at: offset)
            decoder.pointee.guess = 0
            values.append(try T(from: ShapedRowDecoder(owner: decoder, field: nil)))
        }
        return (values, offset)
    }

    private static func kind(_ reader: inout ByteReader) throws -> ShapedColumn.Kind {
        let byte = try reader.byte()
        guard let kind = ShapedColumn.Kind(rawValue: byte) else {
            throw StateDecodingError(reason: "unknown field kind \(byte) at byte \(reader.offset - 1)")
        }
        return kind
    }

    /// Finds where each field of the row at `start` begins, checking every length against the
    /// bytes; returns where the row ends.
    mutating func locate(at start: Int) throws -> Int {
        var offset = start
        if layout == .single {
            offsets[0] = offset
            return try skip(singleKind, at: offset)
        }
        for index in fields.indices {
            offsets[index] = offset
            offset = try skip(fields[index].kind, at: offset)
        }
        return offset
    }

    private mutating func skip(_ kind: ShapedColumn.Kind, at offset: Int) throws -> Int {
        switch kind {
        case .int, .uint, .double:
            guard offset <= bytes.count - 8 else { throw StateDecodingError(reason: "the data ends early (at byte \(offset))") }
            return offset + 8
        case .bool:
            guard offset < bytes.count else { throw StateDecodingError(reason: "the data ends early (at byte \(offset))") }
            return offset + 1
        case .string:
            var end = offset
            let length = try varint(&end)
            guard length <= UInt64(bytes.count - end) else { throw StateDecodingError(reason: "a string runs past the end") }
            return end + Int(length)
        }
    }

    /// The varint at `offset`, which is moved past it.
    private mutating func varint(_ offset: inout Int) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw StateDecodingError(reason: "the data ends early (at byte \(offset))") }
            guard shift < 64 else { throw StateDecodingError(reason: "a number is too long at byte \(offset)") }
            let next = bytes[offset]
            offset += 1
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// The whole column at once when `T` is `Int` or `String` and the column holds them.
    private static func primitives<T>(_ type: T.Type, kind: ShapedColumn.Kind, count: Int, from reader: inout ByteReader) throws -> [T]? {
        if T.self == Int.self, kind == .int {
            var values: [Int] = []
            values.reserveCapacity(count)
            for _ in 0..<count {
                let raw = try reader.fixed64()
                values.append(Int(truncatingIfNeeded: Int64(bitPattern: raw)))
            }
            return unsafeBitCast(values, to: [T].self)
        }
        if T.self == String.self, kind == .string {
            var values: [String] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try reader.string()) }
            return unsafeBitCast(values, to: [T].self)
        }
        return nil
    }

    /// The index of the field `name` in the shape, `nil` if it has none.
    mutating func index(of name: String) -> Int? {
        if guess < fields.count, fields[guess].name == name {
            defer { guess += 1 }
            return guess
        }
        guard let found = fields.firstIndex(where: { $0.name == name }) else { return nil }
        guess = found + 1
        return found
    }

    mutating func kind(at field: Int?) -> ShapedColumn.Kind { field.map { fields[$0].kind } ?? singleKind }

    mutating func mismatch<T>(_ type: T.Type, _ field: Int?, _ found: String) -> DecodingError {
        let path = field.map { [ShapedKey(fields[$0].name)] } ?? []
        return DecodingError.typeMismatch(T.self, .init(codingPath: path, debugDescription: "expected \(T.self), found \(found)"))
    }

    mutating func fixed(at field: Int?) -> UInt64 {
        // In bounds: locate() checked the row's fields against the bytes.
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offsets[field ?? 0], as: UInt64.self))
    }

    /// The primitive at `field` (`nil`: the row's single value) as a `T`, if `T` is a primitive.
    mutating func primitive<T>(_ type: T.Type, at field: Int?) throws -> T? {
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, at: field), to: T.self) }
        if T.self == String.self { return unsafeBitCast(try string(at: field), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(at: field), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(at: field), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try integer(Int64.self, at: field), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try integer(Int32.self, at: field), to: T.self) }
        if T.self == Int16.self { return unsafeBitCast(try integer(Int16.self, at: field), to: T.self) }
        if T.self == Int8.self { return unsafeBitCast(try integer(Int8.self, at: field), to: T.self) }
        if T.self == UInt.self { return unsafeBitCast(try integer(UInt.self, at: field), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try integer(UInt64.self, at: field), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try integer(UInt32.self, at: field), to: T.self) }
        if T.self == UInt16.self { return unsafeBitCast(try integer(UInt16.self, at: field), to: T.self) }
        if T.self == UInt8.self { return unsafeBitCast(try integer(UInt8.self, at: field), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(Float(try double(at: field)), to: T.self) }
        return nil
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, at field: Int?) throws -> T {
        let value: T?
        switch kind(at: field) {
        case .int: value = T(exactly: Int64(bitPattern: fixed(at: field)))
        case .uint: value = T(exactly: fixed(at: field))
        case let other: throw mismatch(T.self, field, other.name)
        }
        guard let value else {
            let path = field.map { [ShapedKey(fields[$0].name)] } ?? []
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "the number does not fit in \(T.self)"))
        }
        return value
    }

    mutating func double(at field: Int?) throws -> Double {
        guard kind(at: field) == .double else { throw mismatch(Double.self, field, kind(at: field).name) }
        return Double(bitPattern: fixed(at: field))
    }

    mutating func bool(at field: Int?) throws -> Bool {
        guard kind(at: field) == .bool else { throw mismatch(Bool.self, field, kind(at: field).name) }
        switch bytes[offsets[field ?? 0]] {
        case 0: return false
        case 1: return true
        case let other: throw StateDecodingError(reason: "a boolean byte is \(other)")
        }
    }

    mutating func string(at field: Int?) throws -> String {
        guard kind(at: field) == .string else { throw mismatch(String.self, field, kind(at: field).name) }
        var start = offsets[field ?? 0]
        let length = Int(try varint(&start))
        guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]), as: UTF8.self) else {
            throw StateDecodingError(reason: "a string is not UTF-8 at byte \(start)")
        }
        return text
    }
}

/// A field's name as a coding key, for the paths of errors.
struct ShapedKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The `Decoder` a row's value decodes itself from; `field` set: one field's value.
struct ShapedRowDecoder: Decoder {
    let owner: UnsafeMutablePointer<ShapedColumnDecoder>
    let field: Int?
    var codingPath: [any CodingKey] { field.map { [ShapedKey(owner.pointee.fields[$0].name)] } ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard field == nil, owner.pointee.layout == .fields else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "expected fields, found \(owner.pointee.kind(at: field).name)"))
        }
        return KeyedDecodingContainer(ShapedFieldsDecodingContainer<Key>(owner: owner))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "expected an array, found a shaped column's value"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard field != nil || owner.pointee.layout == .single else {
            throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected one value, found fields"))
        }
        return ShapedSingleDecodingContainer(owner: owner, field: field)
    }
}

/// A row's fields, found by name in the shape.
struct ShapedFieldsDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let owner: UnsafeMutablePointer<ShapedColumnDecoder>
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { owner.pointee.fields.compactMap { Key(stringValue: $0.name) } }

    init(owner: UnsafeMutablePointer<ShapedColumnDecoder>) {
        self.owner = owner
    }

    func contains(_ key: Key) -> Bool { owner.pointee.fields.contains { $0.name == key.stringValue } }

    private func at(_ key: Key) throws -> Int {
        guard let index = owner.pointee.index(of: key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "the checkpointed value has no field \"\(key.stringValue)\""))
        }
        return index
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        _ = try at(key)
        // A shaped column holds no nil: a field is always there with its value.
        return false
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try owner.pointee.bool(at: at(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try owner.pointee.string(at: at(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try owner.pointee.double(at: at(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try owner.pointee.double(at: at(key))) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try owner.pointee.integer(Int.self, at: at(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try owner.pointee.integer(Int8.self, at: at(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try owner.pointee.integer(Int16.self, at: at(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try owner.pointee.integer(Int32.self, at: at(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try owner.pointee.integer(Int64.self, at: at(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try owner.pointee.integer(UInt.self, at: at(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try owner.pointee.integer(UInt8.self, at: at(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try owner.pointee.integer(UInt16.self, at: at(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try owner.pointee.integer(UInt32.self, at: at(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try owner.pointee.integer(UInt64.self, at: at(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let index = try at(key)
        if let value = try owner.pointee.primitive(T.self, at: index) { return value }
        return try T(from: ShapedRowDecoder(owner: owner, field: index))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: [key], debugDescription: "expected fields, found \(owner.pointee.kind(at: try at(key)).name)"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "expected an array, found \(owner.pointee.kind(at: try at(key)).name)"))
    }

    func superDecoder() throws -> any Decoder {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a shaped column's value has no super decoder"))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [key], debugDescription: "a shaped column's value has no super decoder"))
    }
}

/// A row's single value, or one field's value decoding itself.
struct ShapedSingleDecodingContainer: SingleValueDecodingContainer {
    let owner: UnsafeMutablePointer<ShapedColumnDecoder>
    let field: Int?
    var codingPath: [any CodingKey] { field.map { [ShapedKey(owner.pointee.fields[$0].name)] } ?? [] }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try owner.pointee.primitive(T.self, at: field) { return value }
        return try T(from: ShapedRowDecoder(owner: owner, field: field))
    }
}
