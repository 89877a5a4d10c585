/// Writes `Encodable` values straight into ``StateCoder``'s bytes, without building a tree of
/// nodes first: the tree cost an allocation per value and per field, which made a checkpoint
/// of a million struct-valued keys take seconds.
///
/// The bytes are the format ``ByteWriter/write(_:)`` writes, so old and new checkpoints read
/// alike; only the order of an object's fields differs (encoding order instead of sorted),
/// which decoding ignores. An array or object's count is not known until its container is done,
/// so it gets a five-byte slot that is filled in, and shrunk to its varint, when the container
/// closes. Containers close in nesting order: when the value that opened them is done, or when
/// an outer container is written to again. Whatever one pass cannot write exactly as the tree
/// would — a container written to after it closed or from inside another value, `superEncoder`,
/// mixed container kinds on one encoder, a key written twice (the tree keeps the last), a
/// failed write that was caught — *poisons* the encoder, and ``StateCoder`` encodes that value
/// with the tree instead.
final class StreamEncoder {
    struct Unstreamable: Error {}

    /// An open array or object: where its count goes, how many items it has, and the value
    /// whose `encode(to:)` opened it (only that value may write to it).
    struct Frame {
        let id: Int
        let countAt: Int
        var count: Int
        let owner: Int
        /// Where this object's keys start in `keys` (arrays: unused).
        let keysStart: Int
        var keyed: Bool { keysStart >= 0 }
    }

    /// A value being encoded: which container (if any) its `encode(to:)` asked for.
    struct Position {
        let serial: Int
        let openBase: Int
        var frame: Int?
        var keyed = false
        var single = false
    }

    // Only this encoder's own calls touch these, one at a time: no runtime exclusivity checks
    // (they cost as much as the writing).
    @exclusivity(unchecked) var writer = ByteWriter()
    @exclusivity(unchecked) var open: [Frame] = []
    @exclusivity(unchecked) var positions: [Position] = []
    @exclusivity(unchecked) var path: [any CodingKey] = []
    /// The keys written to the open objects, innermost last, to catch a key written twice.
    @exclusivity(unchecked) var keys: [String] = []
    /// The keys of open objects too large to search `keys` for, by frame.
    @exclusivity(unchecked) var keySets: [Int: Set<String>] = [:]
    @exclusivity(unchecked) private var nextFrame = 0
    @exclusivity(unchecked) private var nextPosition = 0
    /// Set when something was asked that one pass cannot write as the tree would.
    @exclusivity(unchecked) private(set) var poisoned = false

    static let countSlot = 5
    /// Objects with more keys than this check for a repeated key in a set, not a scan.
    static let scannedKeys = 16

    /// Marks the encoding as one the tree must do, and returns the error that says so.
    @discardableResult
    func poison() -> Unstreamable {
        poisoned = true
        return Unstreamable()
    }

    init() {
        writer.bytes.reserveCapacity(256)
    }

    /// The bytes of `value`. Throws ``Unstreamable`` (or what `encode(to:)` threw, with
    /// ``poisoned`` set) when the tree must encode it instead.
    func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try write(value)
        if poisoned { throw Unstreamable() }
        return writer.bytes
    }

    // MARK: Values

    /// Writes `value` at the current place: primitives directly, others through `encode(to:)`.
    func write<T: Encodable>(_ value: T) throws {
        if primitive(value) { return }
        let position = positions.count
        nextPosition += 1
        positions.append(Position(serial: nextPosition, openBase: open.count))
        defer { positions.removeLast() }
        try value.encode(to: PositionEncoder(owner: self, serial: nextPosition))
        let done = positions[position]
        if done.frame == nil, !done.single {
            // Nothing encoded: the tree writes an empty object.
            writer.bytes.append(8)
            writer.bytes.append(0)
        }
        close(downTo: done.openBase)
    }

    /// Writes `value` if it is a primitive. Metatype comparisons, not casts: this runs for
    /// every value that goes through the generic path.
    func primitive<T>(_ value: T) -> Bool {
        if T.self == Int.self {
            int(Int64(unsafeBitCast(value, to: Int.self)))
        } else if T.self == String.self {
            string(unsafeBitCast(value, to: String.self))
        } else if T.self == Double.self {
            double(unsafeBitCast(value, to: Double.self))
        } else if T.self == Bool.self {
            bool(unsafeBitCast(value, to: Bool.self))
        } else if T.self == Int64.self {
            int(unsafeBitCast(value, to: Int64.self))
        } else if T.self == Int32.self {
            int(Int64(unsafeBitCast(value, to: Int32.self)))
        } else if T.self == Int16.self {
            int(Int64(unsafeBitCast(value, to: Int16.self)))
        } else if T.self == Int8.self {
            int(Int64(unsafeBitCast(value, to: Int8.self)))
        } else if T.self == UInt.self {
            uint(UInt64(unsafeBitCast(value, to: UInt.self)))
        } else if T.self == UInt64.self {
            uint(unsafeBitCast(value, to: UInt64.self))
        } else if T.self == UInt32.self {
            uint(UInt64(unsafeBitCast(value, to: UInt32.self)))
        } else if T.self == UInt16.self {
            uint(UInt64(unsafeBitCast(value, to: UInt16.self)))
        } else if T.self == UInt8.self {
            uint(UInt64(unsafeBitCast(value, to: UInt8.self)))
        } else if T.self == Float.self {
            double(Double(unsafeBitCast(value, to: Float.self)))
        } else {
            return false
        }
        return true
    }

    func int(_ value: Int64) { writer.int(value) }
    func uint(_ value: UInt64) { writer.uint(value) }
    func double(_ value: Double) { writer.double(value) }
    func string(_ value: String) { writer.string(value) }
    func null() { writer.null() }
    func bool(_ value: Bool) { writer.bool(value) }
    func raw(_ text: String) { writer.text(text) }

    // MARK: Containers

    /// Opens the container of the value `serial`, or returns the one it opened before.
    func container(of serial: Int, keyed: Bool) throws -> Int {
        guard let place = positions.last, place.serial == serial else { throw poison() }
        if let frame = place.frame {
            guard place.keyed == keyed else { throw poison() }
            return frame
        }
        guard !place.single else { throw poison() }
        let frame = openFrame(keyed: keyed)
        positions[positions.count - 1].frame = frame
        positions[positions.count - 1].keyed = keyed
        return frame
    }

    /// Writes an array or object tag and a count slot, and opens its frame for the value
    /// being encoded.
    func openFrame(keyed: Bool) -> Int {
        writer.bytes.append(keyed ? 8 : 7)
        let countAt = writer.bytes.count
        writer.bytes.append(contentsOf: repeatElement(0, count: Self.countSlot))
        nextFrame += 1
        open.append(Frame(id: nextFrame, countAt: countAt, count: 0, owner: positions.last?.serial ?? 0, keysStart: keyed ? keys.count : -1))
        return nextFrame
    }

    /// Makes `frame` the innermost open container, closing those inside it; returns its index.
    /// Only the value that opened a container may write to it, and only while it is open.
    func enter(_ frame: Int) throws -> Int {
        var index = open.count - 1
        while index >= 0, open[index].id != frame { index -= 1 }
        guard index >= 0, open[index].owner == positions.last?.serial else { throw poison() }
        close(downTo: index + 1)
        return index
    }

    /// Marks the single value container of the value `serial` as used.
    func single(of serial: Int) throws {
        guard let place = positions.last, place.serial == serial, place.frame == nil, !place.single else { throw poison() }
        positions[positions.count - 1].single = true
    }

    /// Records `key` for the object `index` of `open`; a key it already has poisons (the tree
    /// keeps only the last value of a key).
    func note(_ key: String, inObjectAt index: Int) throws {
        let frame = open[index]
        if frame.count < Self.scannedKeys {
            var at = frame.keysStart
            while at < keys.count {
                if keys[at] == key { throw poison() }
                at += 1
            }
            keys.append(key)
            return
        }
        if keySets[frame.id] == nil { keySets[frame.id] = Set(keys[frame.keysStart...]) }
        guard keySets[frame.id]?.insert(key).inserted == true else { throw poison() }
    }

    /// Closes open containers until `count` remain, filling in each one's count.
    func close(downTo count: Int) {
        while open.count > count {
            let frame = open.removeLast()
            if frame.keyed {
                keys.removeSubrange(frame.keysStart...)
                if frame.count >= Self.scannedKeys { keySets[frame.id] = nil }
            }
            patch(frame)
        }
    }

    /// Writes `frame`'s count into its slot as a varint, moving what follows back over the
    /// slot's unused bytes, so the result is what a one-pass writer that knew the count wrote.
    private func patch(_ frame: Frame) {
        var length = 1
        while frame.count >> (7 * length) > 0 { length += 1 }
        let unused = Self.countSlot - length
        if unused < 0 {
            // Over 2^35 items: more than memory holds, but make room rather than overwrite.
            writer.bytes.insert(contentsOf: repeatElement(0, count: -unused), at: frame.countAt + Self.countSlot)
        }
        writer.bytes.withUnsafeMutableBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            let contentStart = frame.countAt + Self.countSlot
            if unused > 0 {
                (base + frame.countAt + length).update(from: base + contentStart, count: bytes.count - contentStart)
            }
            var value = UInt64(frame.count)
            for offset in 0..<length {
                base[frame.countAt + offset] = UInt8(truncatingIfNeeded: value) | (offset < length - 1 ? 0x80 : 0)
                value >>= 7
            }
        }
        if unused > 0 { writer.bytes.removeLast(unused) }
    }

    /// Adds one item to `frame` (a field under `key`, for an object) after writing it with
    /// `write`. A write that fails poisons: the tree adds an item only once it is complete, and
    /// a caller may catch the error and go on.
    func item(in frame: Int, key: String? = nil, _ write: () throws -> Void) throws {
        let index = try enter(frame)
        do {
            if let key {
                try note(key, inObjectAt: index)
                raw(key)
            }
            try write()
        } catch {
            poisoned = true
            throw error
        }
        guard index < open.count, open[index].id == frame else { throw poison() }
        open[index].count += 1
    }
}

/// The `Encoder` handed to one value's `encode(to:)`.
struct PositionEncoder: Encoder {
    let owner: StreamEncoder
    let serial: Int
    var codingPath: [any CodingKey] { owner.path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StreamKeyedContainer<Key>(owner: owner, frame: try? owner.container(of: serial, keyed: true)))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        StreamUnkeyedContainer(owner: owner, frame: try? owner.container(of: serial, keyed: false))
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamSingleContainer(owner: owner, serial: serial)
    }
}

/// An object's fields. A container that could not be opened (`frame` nil) throws on use.
struct StreamKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let owner: StreamEncoder
    let frame: Int?
    var codingPath: [any CodingKey] { owner.path }

    private func field(_ key: Key, _ write: () throws -> Void) throws {
        guard let frame else { throw owner.poison() }
        try owner.item(in: frame, key: key.stringValue, write)
    }

    mutating func encodeNil(forKey key: Key) throws { try field(key) { owner.null() } }
    mutating func encode(_ value: Bool, forKey key: Key) throws { try field(key) { owner.bool(value) } }
    mutating func encode(_ value: String, forKey key: Key) throws { try field(key) { owner.string(value) } }
    mutating func encode(_ value: Double, forKey key: Key) throws { try field(key) { owner.double(value) } }
    mutating func encode(_ value: Float, forKey key: Key) throws { try field(key) { owner.double(Double(value)) } }
    mutating func encode(_ value: Int, forKey key: Key) throws { try field(key) { owner.int(Int64(value)) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try field(key) { owner.int(Int64(value)) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try field(key) { owner.int(Int64(value)) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try field(key) { owner.int(Int64(value)) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try field(key) { owner.int(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try field(key) { owner.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try field(key) { owner.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try field(key) { owner.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try field(key) { owner.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try field(key) { owner.uint(value) } }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try field(key) {
            owner.path.append(key)
            defer { owner.path.removeLast() }
            try owner.write(value)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        var nested: Int?
        try? field(key) { nested = owner.openFrame(keyed: true) }
        return KeyedEncodingContainer(StreamKeyedContainer<NestedKey>(owner: owner, frame: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        var nested: Int?
        try? field(key) { nested = owner.openFrame(keyed: false) }
        return StreamUnkeyedContainer(owner: owner, frame: nested)
    }

    // Where a super encoder's value ends is not known in one pass: the tree encodes these.
    mutating func superEncoder() -> any Encoder { UnstreamableEncoder(owner: owner, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { UnstreamableEncoder(owner: owner, codingPath: codingPath) }
}

/// An array's items. A container that could not be opened (`frame` nil) throws on use.
struct StreamUnkeyedContainer: UnkeyedEncodingContainer {
    let owner: StreamEncoder
    let frame: Int?
    var count = 0
    var codingPath: [any CodingKey] { owner.path }

    private mutating func element(_ write: (StreamEncoder) throws -> Void) throws {
        guard let frame else { throw owner.poison() }
        let owner = self.owner
        try owner.item(in: frame) { try write(owner) }
        count += 1
    }

    mutating func encodeNil() throws { try element { $0.null() } }
    mutating func encode(_ value: Bool) throws { try element { $0.bool(value) } }
    mutating func encode(_ value: String) throws { try element { $0.string(value) } }
    mutating func encode(_ value: Double) throws { try element { $0.double(value) } }
    mutating func encode(_ value: Float) throws { try element { $0.double(Double(value)) } }
    mutating func encode(_ value: Int) throws { try element { $0.int(Int64(value)) } }
    mutating func encode(_ value: Int8) throws { try element { $0.int(Int64(value)) } }
    mutating func encode(_ value: Int16) throws { try element { $0.int(Int64(value)) } }
    mutating func encode(_ value: Int32) throws { try element { $0.int(Int64(value)) } }
    mutating func encode(_ value: Int64) throws { try element { $0.int(value) } }
    mutating func encode(_ value: UInt) throws { try element { $0.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt8) throws { try element { $0.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt16) throws { try element { $0.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt32) throws { try element { $0.uint(UInt64(value)) } }
    mutating func encode(_ value: UInt64) throws { try element { $0.uint(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws { try element { try $0.write(value) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        var nested: Int?
        try? element { nested = $0.openFrame(keyed: true) }
        return KeyedEncodingContainer(StreamKeyedContainer<NestedKey>(owner: owner, frame: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        var nested: Int?
        try? element { nested = $0.openFrame(keyed: false) }
        return StreamUnkeyedContainer(owner: owner, frame: nested)
    }

    mutating func superEncoder() -> any Encoder { UnstreamableEncoder(owner: owner, codingPath: codingPath) }
}

/// The single value of one position: writes it in the position's place.
struct StreamSingleContainer: SingleValueEncodingContainer {
    let owner: StreamEncoder
    let serial: Int
    var codingPath: [any CodingKey] { owner.path }

    mutating func encodeNil() throws {
        try owner.single(of: serial)
        owner.null()
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try owner.single(of: serial)
        do {
            try owner.write(value)
        } catch {
            _ = owner.poison()
            throw error
        }
    }
}

/// The encoder `superEncoder()` returns: asking for it poisons the encoding (the tree encodes
/// the value), and its containers throw on use.
struct UnstreamableEncoder: Encoder {
    let codingPath: [any CodingKey]
    let owner: StreamEncoder
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(owner: StreamEncoder, codingPath: [any CodingKey]) {
        owner.poison()
        self.owner = owner
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StreamKeyedContainer<Key>(owner: owner, frame: nil))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { StreamUnkeyedContainer(owner: owner, frame: nil) }

    func singleValueContainer() -> any SingleValueEncodingContainer { UnstreamableSingle(owner: owner, codingPath: codingPath) }

    struct UnstreamableSingle: SingleValueEncodingContainer {
        let owner: StreamEncoder
        let codingPath: [any CodingKey]
        mutating func encodeNil() throws { throw owner.poison() }
        mutating func encode<T: Encodable>(_ value: T) throws { throw owner.poison() }
    }
}
