/// Reads `Decodable` values straight from ``StateCoder``'s bytes, without building a tree of
/// nodes first (the tree cost allocations per value and per field, and a dictionary per
/// object).
///
/// The whole value is walked once up front, so truncated or corrupt bytes fail before any
/// `init(from:)` runs. An object's fields are found by scanning its keys; the scan goes on
/// where the last lookup at the same depth stopped, so decoding fields in the order they were
/// encoded (what synthesized `Codable` does) finds each one at once.
final class StreamDecoder {
    let bytes: [UInt8]
    // Only this decoder's own calls touch these, one at a time: no runtime exclusivity checks.
    @exclusivity(unchecked) var path: [any CodingKey] = []

    /// Per nesting depth: the object last searched there and the field its search stopped at.
    struct Cursor {
        var object: Int
        var index: Int
        var offset: Int
    }

    @exclusivity(unchecked) var cursors: [Cursor] = []
    /// Large objects (dictionaries) by offset: each key's value, so lookups in any order are
    /// not a scan each. The last of a repeated key wins, as with the tree.
    @exclusivity(unchecked) var indexes: [Int: [String: Int]] = [:]

    /// Objects with more fields than this are looked up through an index, not a scan.
    static let scannedFields = 16

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        var reader = ByteReader(bytes: bytes)
        try reader.skipValue()
        guard reader.isAtEnd else { throw StateDecodingError(reason: "\(bytes.count - reader.offset) bytes after the value") }
        return try read(type, at: 0, depth: 0)
    }

    /// The value at `offset`: primitives directly, others through `init(from:)`.
    func read<T: Decodable>(_ type: T.Type, at offset: Int, depth: Int) throws -> T {
        if let value = try primitive(type, at: offset) { return value }
        return try T(from: StreamPositionDecoder(owner: self, offset: offset, depth: depth))
    }

    func mismatch(_ expected: String, at offset: Int) -> DecodingError {
        let found = offset < bytes.count ? Self.tagName(bytes[offset]) : "the end"
        return DecodingError.typeMismatch(Any.self, .init(codingPath: path, debugDescription: "expected \(expected), found \(found)"))
    }

    static func tagName(_ tag: UInt8) -> String {
        switch tag {
        case 0: "null"
        case 1, 2: "a boolean"
        case 3, 4: "an integer"
        case 5: "a number"
        case 6: "a string"
        case 7: "an array"
        case 8: "an object"
        default: "tag \(tag)"
        }
    }

    // MARK: Primitives

    /// The types ``primitive(_:at:)`` reads directly.
    static let primitives: Set<ObjectIdentifier> = [
        Int.self, String.self, Double.self, Bool.self, Int64.self, Int32.self, Int16.self, Int8.self, UInt.self, UInt64.self,
        UInt32.self, UInt16.self, UInt8.self, Float.self,
    ].map { ObjectIdentifier($0) }.reduce(into: []) { $0.insert($1) }

    /// Reads the value at `offset` if `T` is a primitive. Metatype comparisons, not casts.
    func primitive<T>(_ type: T.Type, at offset: Int) throws -> T? {
        if T.self == Int.self { return unsafeBitCast(try integer(Int.self, at: offset), to: T.self) }
        if T.self == String.self { return unsafeBitCast(try string(at: offset), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try double(at: offset), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try bool(at: offset), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try integer(Int64.self, at: offset), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try integer(Int32.self, at: offset), to: T.self) }
        if T.self == Int16.self { return unsafeBitCast(try integer(Int16.self, at: offset), to: T.self) }
        if T.self == Int8.self { return unsafeBitCast(try integer(Int8.self, at: offset), to: T.self) }
        if T.self == UInt.self { return unsafeBitCast(try integer(UInt.self, at: offset), to: T.self) }
        if T.self == UInt64.self { return unsafeBitCast(try integer(UInt64.self, at: offset), to: T.self) }
        if T.self == UInt32.self { return unsafeBitCast(try integer(UInt32.self, at: offset), to: T.self) }
        if T.self == UInt16.self { return unsafeBitCast(try integer(UInt16.self, at: offset), to: T.self) }
        if T.self == UInt8.self { return unsafeBitCast(try integer(UInt8.self, at: offset), to: T.self) }
        if T.self == Float.self { return unsafeBitCast(Float(try double(at: offset)), to: T.self) }
        return nil
    }

    func integer<I: FixedWidthInteger>(_: I.Type, at offset: Int) throws -> I {
        var reader = ByteReader(bytes: bytes, offset: offset)
        switch try reader.byte() {
        case 3:
            let raw = try reader.varint()
            if let exact = I(exactly: Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))) { return exact }
        case 4:
            if let exact = I(exactly: try reader.varint()) { return exact }
        default:
            break
        }
        throw mismatch("an integer that fits \(I.self)", at: offset)
    }

    func double(at offset: Int) throws -> Double {
        var reader = ByteReader(bytes: bytes, offset: offset)
        guard try reader.byte() == 5 else { throw mismatch("a number", at: offset) }
        return Double(bitPattern: try reader.fixed64())
    }

    func bool(at offset: Int) throws -> Bool {
        var reader = ByteReader(bytes: bytes, offset: offset)
        switch try reader.byte() {
        case 1: return false
        case 2: return true
        default: throw mismatch("a boolean", at: offset)
        }
    }

    func string(at offset: Int) throws -> String {
        var reader = ByteReader(bytes: bytes, offset: offset)
        guard try reader.byte() == 6 else { throw mismatch("a string", at: offset) }
        return try reader.string()
    }

    func isNull(at offset: Int) -> Bool {
        offset < bytes.count && bytes[offset] == 0
    }

    // MARK: Containers

    /// The array or object at `offset`: where its first item starts and how many it has.
    func header(at offset: Int, keyed: Bool) throws -> (first: Int, count: Int) {
        var reader = ByteReader(bytes: bytes, offset: offset)
        guard try reader.byte() == (keyed ? 8 : 7) else { throw mismatch(keyed ? "an object" : "an array", at: offset) }
        let count = try reader.count()
        return (reader.offset, count)
    }

    /// Where the value of field `name` of the object at `object` starts, if it has one.
    func field(_ name: String, object: Int, first: Int, count: Int, depth: Int) throws -> Int? {
        guard count > 0 else { return nil }
        if count > Self.scannedFields { return try index(object: object, first: first, count: count)[name] }
        while cursors.count <= depth { cursors.append(Cursor(object: -1, index: 0, offset: 0)) }
        var cursor = cursors[depth]
        if cursor.object != object { cursor = Cursor(object: object, index: 0, offset: first) }
        var name = name
        return try name.withUTF8 { wanted -> Int? in
            for _ in 0..<count {
                if cursor.index == count { (cursor.index, cursor.offset) = (0, first) }
                var reader = ByteReader(bytes: bytes, offset: cursor.offset)
                let length = try reader.count()
                let keyStart = reader.offset
                try reader.advance(by: length)
                let matches = length == wanted.count && bytes.withUnsafeBufferPointer { all in
                    wanted.elementsEqual(UnsafeBufferPointer(rebasing: all[keyStart..<(keyStart + length)]))
                }
                if matches {
                    cursors[depth] = cursor
                    return reader.offset
                }
                try reader.skipValue()
                cursor.index += 1
                cursor.offset = reader.offset
            }
            cursors[depth] = cursor
            return nil
        }
    }

    func index(object: Int, first: Int, count: Int) throws -> [String: Int] {
        if let index = indexes[object] { return index }
        var reader = ByteReader(bytes: bytes, offset: first)
        var index: [String: Int] = [:]
        index.reserveCapacity(count)
        for _ in 0..<count {
            let name = try reader.string()
            index[name] = reader.offset
            try reader.skipValue()
        }
        indexes[object] = index
        return index
    }

    /// Every field name of the object, in the order they were written.
    func fieldNames(first: Int, count: Int) throws -> [String] {
        var reader = ByteReader(bytes: bytes, offset: first)
        var names: [String] = []
        names.reserveCapacity(count)
        for _ in 0..<count {
            names.append(try reader.string())
            try reader.skipValue()
        }
        return names
    }

    /// Where the value after the one at `offset` starts.
    func end(of offset: Int) throws -> Int {
        var reader = ByteReader(bytes: bytes, offset: offset)
        try reader.skipValue()
        return reader.offset
    }
}

/// The `Decoder` handed to one value's `init(from:)`.
struct StreamPositionDecoder: Decoder {
    let owner: StreamDecoder
    let offset: Int
    let depth: Int
    var codingPath: [any CodingKey] { owner.path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let (first, count) = try owner.header(at: offset, keyed: true)
        return KeyedDecodingContainer(StreamKeyedDecoding<Key>(owner: owner, object: offset, first: first, count: count, depth: depth))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (first, count) = try owner.header(at: offset, keyed: false)
        return StreamUnkeyedDecoding(owner: owner, next: first, count: count, depth: depth)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        StreamSingleDecoding(owner: owner, offset: offset, depth: depth)
    }
}

struct StreamKeyedDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let owner: StreamDecoder
    let object: Int
    let first: Int
    let count: Int
    let depth: Int
    var codingPath: [any CodingKey] { owner.path }

    var allKeys: [Key] { ((try? owner.fieldNames(first: first, count: count)) ?? []).compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        ((try? owner.field(key.stringValue, object: object, first: first, count: count, depth: depth)) ?? nil) != nil
    }

    private func value(_ key: Key) throws -> Int {
        guard let offset = try owner.field(key.stringValue, object: object, first: first, count: count, depth: depth) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for '\(key.stringValue)'"))
        }
        return offset
    }

    func decodeNil(forKey key: Key) throws -> Bool { owner.isNull(at: try value(key)) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try owner.bool(at: try value(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try owner.string(at: try value(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try owner.double(at: try value(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try owner.double(at: try value(key))) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try owner.integer(type, at: try value(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try owner.integer(type, at: try value(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try owner.integer(type, at: try value(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try owner.integer(type, at: try value(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let offset = try value(key)
        owner.path.append(key)
        defer { owner.path.removeLast() }
        return try owner.read(type, at: offset, depth: depth + 1)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try StreamPositionDecoder(owner: owner, offset: try value(key), depth: depth + 1).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try StreamPositionDecoder(owner: owner, offset: try value(key), depth: depth + 1).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        guard let offset = try owner.field("super", object: object, first: first, count: count, depth: depth) else {
            return NullDecoder(codingPath: codingPath)
        }
        return StreamPositionDecoder(owner: owner, offset: offset, depth: depth + 1)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        StreamPositionDecoder(owner: owner, offset: try value(key), depth: depth + 1)
    }
}

struct StreamUnkeyedDecoding: UnkeyedDecodingContainer {
    let owner: StreamDecoder
    /// Where the next item starts.
    var next: Int
    let total: Int
    let depth: Int
    var currentIndex = 0
    var codingPath: [any CodingKey] { owner.path }
    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }

    init(owner: StreamDecoder, next: Int, count: Int, depth: Int) {
        self.owner = owner
        self.next = next
        self.total = count
        self.depth = depth
    }

    /// The next item's offset; moves past it.
    private mutating func item() throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "the array has only \(total) elements"))
        }
        let offset = next
        next = try owner.end(of: offset)
        currentIndex += 1
        return offset
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, owner.isNull(at: next) else { return false }
        _ = try item()
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try owner.bool(at: try item()) }
    mutating func decode(_ type: String.Type) throws -> String { try owner.string(at: try item()) }
    mutating func decode(_ type: Double.Type) throws -> Double { try owner.double(at: try item()) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try owner.double(at: try item())) }
    mutating func decode(_ type: Int.Type) throws -> Int { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try owner.integer(type, at: try item()) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try owner.integer(type, at: try item()) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try owner.read(type, at: try item(), depth: depth + 1)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try StreamPositionDecoder(owner: owner, offset: try item(), depth: depth + 1).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try StreamPositionDecoder(owner: owner, offset: try item(), depth: depth + 1).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        StreamPositionDecoder(owner: owner, offset: try item(), depth: depth + 1)
    }
}

struct StreamSingleDecoding: SingleValueDecodingContainer {
    let owner: StreamDecoder
    let offset: Int
    let depth: Int
    var codingPath: [any CodingKey] { owner.path }

    func decodeNil() -> Bool { owner.isNull(at: offset) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // The same place, one level further in: the value's own containers get their own cursor.
        try owner.read(type, at: offset, depth: depth + 1)
    }
}

/// The decoder of a value that is not there (a missing `super`): it reads as null.
struct NullDecoder: Decoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected an object, found null"))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected an array, found null"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { NullSingle(codingPath: codingPath) }

    struct NullSingle: SingleValueDecodingContainer {
        let codingPath: [any CodingKey]
        func decodeNil() -> Bool { true }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            // As the tree did with a null node: primitives mismatch, others decode from null
            // (an optional is nil).
            if StreamDecoder.primitives.contains(ObjectIdentifier(T.self)) {
                throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(T.self), found null"))
            }
            return try T(from: NullDecoder(codingPath: codingPath))
        }
    }
}
