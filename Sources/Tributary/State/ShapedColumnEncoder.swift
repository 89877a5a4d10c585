/// Writes a ``ShapedColumn``: the first value's encoding sets the shape, and every later value
/// must encode exactly that shape, or the encoding stops with ``ShapedColumn/Unshaped``.
///
/// The containers a value encodes itself through reach this state by an unsafe pointer
/// (``ShapedEncoderHandle``), with the row they were made for: through a class reference each
/// field cost two retain/release pairs, as much as everything else a field costs. The
/// `Encoder`s handed to `encode(to:)` hold the box that owns the state, so an encoder a value
/// kept past its `encode(to:)` points at live memory, and using it then breaks the shape
/// instead of writing into another row. (A *container* kept past the call is not supported:
/// `Codable` containers belong to their call.) The `Encoder`s stay within an existential's
/// three inline words, so handing one to `encode(to:)` allocates nothing.
struct ShapedColumnEncoder {
    var rows = ByteWriter()
    var layout: ShapedColumn.Layout?
    var fields: [ShapedColumn.Field] = []
    var singleKind: ShapedColumn.Kind?
    /// Values written so far; the first one sets the shape.
    var written = 0
    /// The next field of the current row.
    var next = 0
    /// Whether the current `.single` row has its value.
    var hasValue = false
    /// Set by anything that breaks the shape, so an `Unshaped` the caller's code caught still
    /// counts.
    var broken = false
    /// The box that owns this state (it outlives every use of it), for the encoders the
    /// containers hand out.
    unowned(unsafe) var box: ShapedStateBox<ShapedColumnEncoder>?
    /// The field a value that encodes itself is being written under.
    var fieldName = ""

    var establishing: Bool { written == 0 }

    /// Appends the shaped column of `values` to `writer`. A large column is cut into parts
    /// encoded at once on the cores this process may use: `Codable` costs a few hundred
    /// nanoseconds per struct whatever the format, and a checkpoint of a million keys should
    /// not wait for one core to pay it all.
    /// - Throws: ``ShapedColumn/Unshaped`` when the values have no one shape (or their
    ///   `encode(to:)` threw: the caller's fallback reports that error).
    static func encode<T: Encodable & Sendable>(
        _ values: [T], into writer: inout ByteWriter, parts: Int = partCount, minimumPerPart: Int = minimumPerPart
    ) throws {
        if let kind = primitiveKind(T.self) {
            writer.bytes.append(ShapedColumn.Layout.single.rawValue)
            writer.bytes.append(kind.rawValue)
            writePrimitives(values, kind: kind, into: &writer)
            return
        }
        let parts = values.count >= minimumPerPart * 2 ? max(1, min(parts, values.count / max(1, minimumPerPart))) : 1
        let encoded: [Result<(ShapedColumn.Shape, [UInt8]), any Error>]
        if parts == 1 {
            encoded = [Result { try rows(values[...], abort: nil) }]
        } else {
            // A part that finds the values unshaped stops the others: the caller encodes the
            // whole column again in the self-describing format.
            let abort = ShapedColumn.Abort()
            encoded = ShapedColumn.inParallel(parts) { part in
                let range = ShapedColumn.range(of: part, in: parts, count: values.count)
                let result = Result { try rows(values[range], abort: abort) }
                if case .failure = result { abort.raise() }
                return result
            }
        }
        var shape: ShapedColumn.Shape?
        for result in encoded {
            let (partShape, _) = try result.get()
            // Each part set its shape from its own first value: they must agree.
            guard shape == nil || partShape.layout == nil || shape?.layout == nil || shape == partShape else { throw ShapedColumn.Unshaped() }
            if shape?.layout == nil { shape = partShape }
        }
        switch shape?.layout {
        case .fields?:
            writer.bytes.append(ShapedColumn.Layout.fields.rawValue)
            writer.varint(UInt64(shape?.fields.count ?? 0))
            for field in shape?.fields ?? [] {
                writer.text(field.name)
                writer.bytes.append(field.kind.rawValue)
            }
        case .single?:
            writer.bytes.append(ShapedColumn.Layout.single.rawValue)
            writer.bytes.append((shape?.singleKind ?? .int).rawValue)
        case nil:
            // No values: any shape reads back as an empty column.
            writer.bytes.append(ShapedColumn.Layout.fields.rawValue)
            writer.varint(0)
        }
        writer.bytes.reserveCapacity(writer.bytes.count + encoded.reduce(0) { $0 + ((try? $1.get().1.count) ?? 0) })
        for result in encoded { writer.bytes.append(contentsOf: try result.get().1) }
    }

    /// Fewer values than this per part are not worth a thread.
    static let minimumPerPart = 50_000

    /// How many parts a large column is cut into.
    static var partCount: Int { min(4, AvailableCores.count) }

    /// The shape and rows of `values`; stops early once `abort` is raised.
    static func rows<T: Encodable>(_ values: ArraySlice<T>, abort: ShapedColumn.Abort?) throws -> (ShapedColumn.Shape, [UInt8]) {
        let box = ShapedStateBox(ShapedColumnEncoder())
        defer { withExtendedLifetime(box) {} }
        let encoder = box.pointer
        encoder.pointee.box = box
        for value in values {
            if let abort, abort.isRaised { throw ShapedColumn.Unshaped() }
            encoder.pointee.next = 0
            encoder.pointee.hasValue = false
            do {
                try value.encode(to: ShapedRowEncoder(box: box, row: encoder.pointee.written))
            } catch {
                throw ShapedColumn.Unshaped()
            }
            guard !encoder.pointee.broken else { throw ShapedColumn.Unshaped() }
            switch encoder.pointee.layout {
            case .fields: guard encoder.pointee.next == encoder.pointee.fields.count else { throw ShapedColumn.Unshaped() }
            case .single: guard encoder.pointee.hasValue else { throw ShapedColumn.Unshaped() }
            case nil: throw ShapedColumn.Unshaped()
            }
            if encoder.pointee.written == 0 {
                // Sized from the first row, within reason: one long string there must not
                // reserve that much for every row.
                let first = encoder.pointee.rows.bytes.count
                encoder.pointee.rows.bytes.reserveCapacity(min(first * values.count, 64 << 20) + 16)
            }
            encoder.pointee.written += 1
        }
        let shape = ShapedColumn.Shape(layout: encoder.pointee.layout, fields: encoder.pointee.fields, singleKind: encoder.pointee.singleKind)
        return (shape, encoder.pointee.rows.bytes)
    }

    /// The kind of the primitive types written without going through `encode(to:)`.
    static func primitiveKind<T>(_ type: T.Type) -> ShapedColumn.Kind? {
        if T.self == Int.self || T.self == Int64.self || T.self == Int32.self || T.self == Int16.self || T.self == Int8.self { return .int }
        if T.self == UInt.self || T.self == UInt64.self || T.self == UInt32.self || T.self == UInt16.self || T.self == UInt8.self { return .uint }
        if T.self == String.self { return .string }
        if T.self == Double.self || T.self == Float.self { return .double }
        if T.self == Bool.self { return .bool }
        return nil
    }

    private static func writePrimitives<T>(_ values: [T], kind: ShapedColumn.Kind, into writer: inout ByteWriter) {
        if T.self == Int.self {
            #if _endian(little)
            unsafeBitCast(values, to: [Int].self).withUnsafeBytes { writer.bytes.append(contentsOf: $0) }
            return
            #endif
        }
        if T.self == String.self {
            for value in unsafeBitCast(values, to: [String].self) { writer.text(value) }
            return
        }
        var encoder = ShapedColumnEncoder()
        for value in values { encoder.primitive(value) }
        writer.bytes.append(contentsOf: encoder.rows.bytes)
    }

    /// Writes `value`'s payload if it is a primitive; metatype comparisons, not casts.
    @discardableResult
    mutating func primitive<T>(_ value: T) -> ShapedColumn.Kind? {
        if T.self == Int.self { return int(Int64(unsafeBitCast(value, to: Int.self))) }
        if T.self == String.self { return string(unsafeBitCast(value, to: String.self)) }
        if T.self == Double.self { return double(unsafeBitCast(value, to: Double.self)) }
        if T.self == Bool.self { return bool(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Int64.self { return int(unsafeBitCast(value, to: Int64.self)) }
        if T.self == Int32.self { return int(Int64(unsafeBitCast(value, to: Int32.self))) }
        if T.self == Int16.self { return int(Int64(unsafeBitCast(value, to: Int16.self))) }
        if T.self == Int8.self { return int(Int64(unsafeBitCast(value, to: Int8.self))) }
        if T.self == UInt.self { return uint(UInt64(unsafeBitCast(value, to: UInt.self))) }
        if T.self == UInt64.self { return uint(unsafeBitCast(value, to: UInt64.self)) }
        if T.self == UInt32.self { return uint(UInt64(unsafeBitCast(value, to: UInt32.self))) }
        if T.self == UInt16.self { return uint(UInt64(unsafeBitCast(value, to: UInt16.self))) }
        if T.self == UInt8.self { return uint(UInt64(unsafeBitCast(value, to: UInt8.self))) }
        if T.self == Float.self { return double(Double(unsafeBitCast(value, to: Float.self))) }
        return nil
    }

    @discardableResult
    mutating func int(_ value: Int64) -> ShapedColumn.Kind {
        rows.fixed64(UInt64(bitPattern: value))
        return .int
    }

    @discardableResult
    mutating func uint(_ value: UInt64) -> ShapedColumn.Kind {
        rows.fixed64(value)
        return .uint
    }

    @discardableResult
    mutating func double(_ value: Double) -> ShapedColumn.Kind {
        rows.fixed64(value.bitPattern)
        return .double
    }

    @discardableResult
    mutating func bool(_ value: Bool) -> ShapedColumn.Kind {
        rows.bytes.append(value ? 1 : 0)
        return .bool
    }

    @discardableResult
    mutating func string(_ value: String) -> ShapedColumn.Kind {
        rows.text(value)
        return .string
    }

    /// Marks the shape broken and returns the error that says so.
    mutating func unshaped() -> ShapedColumn.Unshaped {
        broken = true
        return ShapedColumn.Unshaped()
    }

    /// Checks (or, for the first value, records) that the current row's next field is `name`
    /// of `kind`, before its payload is written.
    mutating func field(_ name: String, _ kind: ShapedColumn.Kind) throws {
        guard layout == .fields else { throw unshaped() }
        if establishing {
            // A key written twice: the self-describing format keeps only the last one.
            guard !fields.contains(where: { $0.name == name }) else { throw unshaped() }
            fields.append(ShapedColumn.Field(name: name, kind: kind))
        } else {
            guard next < fields.count, fields[next].kind == kind, fields[next].name == name else { throw unshaped() }
        }
        next += 1
    }

    /// Opens the current value's keyed container (again, for a second request in one value).
    mutating func openFields() throws {
        switch layout {
        case nil:
            guard establishing else { throw unshaped() }
            layout = .fields
        case .fields: break
        case .single: throw unshaped()
        }
    }

    /// Writes the current `.single` value.
    static func single<T: Encodable>(_ value: T, in owner: ShapedEncoderHandle) throws {
        guard owner.isCurrent else { throw owner.pointee.unshaped() }
        try owner.pointee.startSingle()
        guard let kind = owner.pointee.primitive(value) else {
            // A value that encodes itself as one value (a raw-valued enum around a string, say).
            try value.encode(to: ShapedRowEncoder(owner))
            return
        }
        try owner.pointee.finishSingle(kind)
    }

    mutating func startSingle() throws {
        switch layout {
        case nil:
            guard establishing else { throw unshaped() }
            layout = .single
        case .single: break
        case .fields: throw unshaped()
        }
        guard !hasValue else { throw unshaped() }
    }

    mutating func finishSingle(_ kind: ShapedColumn.Kind) throws {
        if establishing { singleKind = kind } else if singleKind != kind { throw unshaped() }
        hasValue = true
    }
}

/// The `Encoder` a row's value encodes itself to: a keyed container of primitive fields, or a
/// single primitive value. Anything else breaks the shape.
struct ShapedRowEncoder: Encoder {
    let box: ShapedStateBox<ShapedColumnEncoder>
    let row: Int
    var owner: ShapedEncoderHandle { ShapedEncoderHandle(pointer: box.pointer, row: row) }
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(box: ShapedStateBox<ShapedColumnEncoder>, row: Int) {
        self.box = box
        self.row = row
    }

    /// An encoder for the row `owner` was made for.
    init(_ owner: ShapedEncoderHandle) {
        self.init(box: owner.box, row: owner.row)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if !owner.isCurrent || (try? owner.pointee.openFields()) == nil { owner.pointee.broken = true }
        return KeyedEncodingContainer(ShapedFieldsContainer<Key>(owner: owner))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnshapedContainer(owner: owner) }

    func singleValueContainer() -> any SingleValueEncodingContainer { ShapedSingleContainer(owner: owner) }
}

/// A row's fields, each checked against the shape as it is written.
struct ShapedFieldsContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let owner: ShapedEncoderHandle
    var codingPath: [any CodingKey] { [] }

    init(owner: ShapedEncoderHandle) {
        self.owner = owner
    }

    mutating func encodeNil(forKey key: Key) throws { throw owner.pointee.unshaped() }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try owner.field(key.stringValue, .bool)
        owner.pointee.bool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try owner.field(key.stringValue, .string)
        owner.pointee.string(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        try owner.field(key.stringValue, .double)
        owner.pointee.double(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        try owner.field(key.stringValue, .double)
        owner.pointee.double(Double(value))
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        try owner.field(key.stringValue, .int)
        owner.pointee.int(Int64(value))
    }

    mutating func encode(_ value: Int8, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encode(Int(value), forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encode(Int(value), forKey: key) }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try owner.field(key.stringValue, .int)
        owner.pointee.int(value)
    }

    mutating func encode(_ value: UInt, forKey key: Key) throws { try encode(UInt64(value), forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encode(UInt64(value), forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encode(UInt64(value), forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encode(UInt64(value), forKey: key) }

    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        try owner.field(key.stringValue, .uint)
        owner.pointee.uint(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        if let kind = ShapedColumnEncoder.primitiveKind(T.self) {
            try owner.field(key.stringValue, kind)
            owner.pointee.primitive(value)
            return
        }
        // A field whose value encodes itself as one primitive (a raw-valued enum, a Date).
        try owner.encodeField(value, name: key.stringValue)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        owner.pointee.broken = true
        return KeyedEncodingContainer(ShapedFieldsContainer<NestedKey>(owner: owner))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { UnshapedContainer(owner: owner) }

    mutating func superEncoder() -> any Encoder {
        owner.pointee.broken = true
        return ShapedRowEncoder(owner)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        owner.pointee.broken = true
        return ShapedRowEncoder(owner)
    }
}

/// The encoder of one field whose value encodes itself: it may write one primitive, through a
/// single value container, under the field's name.
struct ShapedFieldEncoder: Encoder {
    let box: ShapedStateBox<ShapedColumnEncoder>
    let row: Int
    var owner: ShapedEncoderHandle { ShapedEncoderHandle(pointer: box.pointer, row: row) }
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        owner.pointee.broken = true
        return KeyedEncodingContainer(ShapedFieldsContainer<Key>(owner: owner))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnshapedContainer(owner: owner) }

    func singleValueContainer() -> any SingleValueEncodingContainer { FieldValue(owner: owner) }

    /// The field's one value, under the name the encoder's state holds (``ShapedColumnEncoder/fieldName``).
    struct FieldValue: SingleValueEncodingContainer {
        let owner: ShapedEncoderHandle
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil() throws { throw owner.pointee.unshaped() }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let name = owner.pointee.fieldName
            if let kind = ShapedColumnEncoder.primitiveKind(T.self) {
                try owner.field(name, kind)
                owner.pointee.primitive(value)
                return
            }
            try owner.encodeField(value, name: name)
        }
    }
}

/// A row's single value.
struct ShapedSingleContainer: SingleValueEncodingContainer {
    let owner: ShapedEncoderHandle
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { throw owner.pointee.unshaped() }

    mutating func encode<T: Encodable>(_ value: T) throws { try ShapedColumnEncoder.single(value, in: owner) }
}

/// What a shaped column cannot hold (an array): every use breaks the shape.
struct UnshapedContainer: UnkeyedEncodingContainer {
    let owner: ShapedEncoderHandle
    var codingPath: [any CodingKey] { [] }
    var count: Int { 0 }

    init(owner: ShapedEncoderHandle) {
        owner.pointee.broken = true
        self.owner = owner
    }

    mutating func encodeNil() throws { throw owner.pointee.unshaped() }
    mutating func encode<T: Encodable>(_ value: T) throws { throw owner.pointee.unshaped() }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(ShapedFieldsContainer<NestedKey>(owner: owner))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
    mutating func superEncoder() -> any Encoder { ShapedRowEncoder(owner) }
}

/// How the containers of one row reach the encoder's state (see ``ShapedColumnEncoder``).
struct ShapedEncoderHandle {
    let pointer: UnsafeMutablePointer<ShapedColumnEncoder>
    /// The row (the value's index) the containers were made for.
    let row: Int

    var pointee: ShapedColumnEncoder {
        unsafeAddress { UnsafePointer(pointer) }
        nonmutating unsafeMutableAddress { pointer }
    }

    /// The box that owns the state: set before any row is encoded, alive while it is.
    var box: ShapedStateBox<ShapedColumnEncoder> { pointer.pointee.box.unsafelyUnwrapped }

    /// Whether the encoder is still at the row this handle was made for.
    var isCurrent: Bool { pointer.pointee.written == row }

    /// Checks the next field of this handle's row (see ``ShapedColumnEncoder/field(_:_:)``).
    func field(_ name: String, _ kind: ShapedColumn.Kind) throws {
        guard isCurrent else { throw pointer.pointee.unshaped() }
        try pointer.pointee.field(name, kind)
    }

    /// Encodes a field's value that encodes itself: it must write exactly one primitive, as
    /// the field; writing none would leave the field out of the row (the self-describing
    /// format writes an empty object there, which its `init(from:)` may expect).
    func encodeField<T: Encodable>(_ value: T, name: String) throws {
        let before = pointer.pointee.next
        pointer.pointee.fieldName = name
        try value.encode(to: ShapedFieldEncoder(box: box, row: row))
        guard pointer.pointee.next == before + 1 else { throw pointer.pointee.unshaped() }
    }
}
