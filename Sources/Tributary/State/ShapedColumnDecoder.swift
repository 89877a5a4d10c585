/// Reads a ``ShapedColumn`` back. Each row is measured against the shape before its value's
/// `init(from:)` runs, so a truncated or corrupt column fails with ``StateDecodingError``
/// rather than reading past its end; a shape that does not fit the type being decoded (a
/// field missing, of another kind, or out of range) fails with a `DecodingError` that names it.
///
/// As with the encoder, the containers reach this state by an unsafe pointer
/// (``ShapedDecoderHandle``) with the row they were made for, no retain and release per field;
/// the `Decoder`s handed to `init(from:)` hold the box that owns the state and the bytes, so
/// a decoder a value kept past its `init(from:)` neither reads freed memory nor another row:
/// it throws. (A *container* kept past the call is not supported.) A `Decoder` takes three
/// words, an existential's inline room, so handing one over allocates nothing.
struct ShapedColumnDecoder {
    /// Owns the memory `bytes` points at.
    let storage: ShapedBytes
    let bytes: UnsafeRawBufferPointer
    let layout: ShapedColumn.Layout
    let fields: [ShapedColumn.Field]
    let singleKind: ShapedColumn.Kind
    /// Where each field's payload starts in the current row.
    var offsets: [Int]
    /// The current row, counted from 0.
    var row = 0
    /// Where the next lookup by name starts: fields decoded in the order they were encoded
    /// (what synthesized `Codable` does) are each found at once.
    var guess = 0
    /// The box that owns this state while rows are decoded, for the decoders the containers
    /// hand out.
    unowned(unsafe) var box: ShapedStateBox<ShapedColumnDecoder>?

    init(storage: ShapedBytes, layout: ShapedColumn.Layout, fields: [ShapedColumn.Field], singleKind: ShapedColumn.Kind) {
        self.storage = storage
        self.bytes = storage.raw
        self.layout = layout
        self.fields = fields
        self.singleKind = singleKind
        self.offsets = Array(repeating: 0, count: max(1, fields.count))
    }

    /// The fewest bytes a payload of `kind` takes.
    static func minimumSize(of kind: ShapedColumn.Kind) -> Int {
        switch kind {
        case .int, .uint, .double: 8
        case .bool, .string: 1
        }
    }

    /// Reads `count` values of `T` from `reader`, which is left after the column. A large
    /// column is decoded in parts at once, as it was encoded.
    static func decode<T: Decodable & Sendable>(
        _ type: T.Type, count: Int, from reader: inout ByteReader, parts: Int = partCount,
        minimumPerPart: Int = ShapedColumnEncoder.minimumPerPart
    ) throws -> [T] {
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
        // A count beyond what the bytes can hold is corrupt, not a reason to reserve memory.
        let rowSize = layout == .single ? minimumSize(of: singleKind) : fields.reduce(0) { $0 + minimumSize(of: $1.kind) }
        let left = reader.bytes.count - reader.offset
        guard count >= 0, count <= reader.bytes.count, count * rowSize <= left else {
            throw StateDecodingError(reason: "\(count) values cannot fit in the \(left) bytes left")
        }
        if layout == .single, let read = try primitives(T.self, kind: singleKind, count: count, from: &reader) { return read }
        // Rows of no fields take no bytes: no count of them is implausible, so none is reserved.
        let reserve = rowSize == 0 ? 0 : count
        let storage = ShapedBytes(reader.bytes)
        let start = reader.offset
        let parts = count >= minimumPerPart * 2 ? max(1, min(parts, count / max(1, minimumPerPart))) : 1
        if parts == 1 {
            let (values, end) = try ShapedColumnDecoder(storage: storage, layout: layout, fields: fields, singleKind: singleKind)
                .rows(T.self, count: count, reserve: reserve, at: start)
            reader.offset = end
            return values
        }
        // Where each part's first row starts: one pass over the lengths, no decoding.
        var measuring = ShapedColumnDecoder(storage: storage, layout: layout, fields: fields, singleKind: singleKind)
        var starts: [Int] = []
        var offset = start
        for part in 0..<parts {
            starts.append(offset)
            for _ in ShapedColumn.range(of: part, in: parts, count: count) { offset = try measuring.locate(at: offset) }
        }
        let abort = ShapedColumn.Abort()
        let (partStarts, shapeFields, shapeKind) = (starts, fields, singleKind)
        let decoded = ShapedColumn.inParallel(parts) { part in
            let rows = ShapedColumn.range(of: part, in: parts, count: count).count
            let result = Result {
                try ShapedColumnDecoder(storage: storage, layout: layout, fields: shapeFields, singleKind: shapeKind)
                    .rows(T.self, count: rows, reserve: reserve == 0 ? 0 : rows, at: partStarts[part], abort: abort)
            }
            if case .failure = result { abort.raise() }
            return result
        }
        var values: [T] = []
        values.reserveCapacity(reserve)
        // The first part that failed names the first row that did (the one a single pass
        // would have stopped at); the parts after it only stopped because it did.
        for result in decoded { values.append(contentsOf: try result.get().0) }
        reader.offset = offset
        return values
    }

    /// How many parts a large column is decoded in at once.
    static var partCount: Int { ShapedColumnEncoder.partCount }

    /// Decodes `count` rows from `start`; returns them and where they end. Stops early once
    /// `abort` is raised.
    func rows<T: Decodable>(_ type: T.Type, count: Int, reserve: Int, at start: Int, abort: ShapedColumn.Abort? = nil) throws -> ([T], Int) {
        let box = ShapedStateBox(self)
        defer { withExtendedLifetime(box) {} }
        let decoder = box.pointer
        decoder.pointee.box = box
        var values: [T] = []
        values.reserveCapacity(reserve)
        var offset = start
        for index in 0..<count {
            if let abort, abort.isRaised { throw ShapedColumn.Unshaped() }
            offset = try decoder.pointee.locate(at: offset)
            decoder.pointee.guess = 0
            decoder.pointee.row = index
            values.append(try T(from: ShapedRowDecoder(box: box, row: index, field: -1)))
        }
        decoder.pointee.row = -1
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

/// The `Decoder` a row's value decodes itself from; `field` ≥ 0: one field's value.
struct ShapedRowDecoder: Decoder {
    let box: ShapedStateBox<ShapedColumnDecoder>
    let row: Int
    /// The field whose value decodes itself, or -1 for the row's value (not an optional: the
    /// decoder must stay within three words).
    let fieldIndex: Int
    var field: Int? { fieldIndex < 0 ? nil : fieldIndex }
    var owner: ShapedDecoderHandle { ShapedDecoderHandle(pointer: box.pointer, row: row) }
    var codingPath: [any CodingKey] { field.map { [ShapedKey(owner.pointee.fields[$0].name)] } ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(box: ShapedStateBox<ShapedColumnDecoder>, row: Int, field: Int) {
        self.box = box
        self.row = row
        self.fieldIndex = field
    }

    /// A decoder of `field` (-1: the row) for the row `owner` was made for.
    init(_ owner: ShapedDecoderHandle, field: Int) {
        self.init(box: owner.box, row: owner.row, field: field)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try owner.check()
        guard field == nil, owner.pointee.layout == .fields else {
            throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: codingPath, debugDescription: "expected fields, found \(owner.pointee.kind(at: field).name)"))
        }
        return KeyedDecodingContainer(ShapedFieldsDecodingContainer<Key>(owner: owner))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "expected an array, found a shaped column's value"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        try owner.check()
        guard field != nil || owner.pointee.layout == .single else {
            throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected one value, found fields"))
        }
        return ShapedSingleDecodingContainer(owner: owner, fieldIndex: fieldIndex)
    }
}

/// A row's fields, found by name in the shape.
struct ShapedFieldsDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let owner: ShapedDecoderHandle
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] { owner.pointee.fields.compactMap { Key(stringValue: $0.name) } }

    init(owner: ShapedDecoderHandle) {
        self.owner = owner
    }

    func contains(_ key: Key) -> Bool { owner.pointee.fields.contains { $0.name == key.stringValue } }

    private func at(_ key: Key) throws -> Int {
        try owner.check()
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
        return try T(from: ShapedRowDecoder(owner, field: index))
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
    let owner: ShapedDecoderHandle
    /// As ``ShapedRowDecoder/fieldIndex``.
    let fieldIndex: Int
    var field: Int? { fieldIndex < 0 ? nil : fieldIndex }
    var codingPath: [any CodingKey] { field.map { [ShapedKey(owner.pointee.fields[$0].name)] } ?? [] }

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try owner.check()
        if let value = try owner.pointee.primitive(T.self, at: field) { return value }
        return try T(from: ShapedRowDecoder(owner, field: fieldIndex))
    }
}

/// How the containers of one row reach the decoder's state (see ``ShapedColumnDecoder``).
struct ShapedDecoderHandle {
    let pointer: UnsafeMutablePointer<ShapedColumnDecoder>
    /// The row the containers were made for.
    let row: Int

    /// The box that owns the state: set before any row is decoded, alive while it is.
    var box: ShapedStateBox<ShapedColumnDecoder> { pointer.pointee.box.unsafelyUnwrapped }

    var pointee: ShapedColumnDecoder {
        unsafeAddress { UnsafePointer(pointer) }
        nonmutating unsafeMutableAddress { pointer }
    }

    /// Throws unless the decoder is still at this handle's row: a decoder kept past its
    /// value's `init(from:)` would read whatever row came later.
    func check() throws {
        guard pointer.pointee.row == row else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "a decoder of checkpointed state was used after its value's init(from:) returned; keyed state must decode itself in init(from:)"))
        }
    }
}

/// A copy of a shaped column's bytes that lives as long as any decoder reading it: a decoder a
/// value kept must not read an array's storage through a pointer past `withUnsafeBytes`.
final class ShapedBytes: @unchecked Sendable {
    // Written once, in init; only read afterwards, from any thread.
    let raw: UnsafeRawBufferPointer
    private let allocation: UnsafeMutableRawBufferPointer

    init(_ bytes: [UInt8]) {
        let allocation = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 8)
        bytes.withUnsafeBytes { allocation.copyMemory(from: $0) }
        self.allocation = allocation
        raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(allocation)[0..<bytes.count])
    }

    deinit {
        allocation.deallocate()
    }
}
