/// A keyed process function's (or window operator's) checkpoint part: its state table, its
/// pending timers, and its watermark — which decides what is late, so a restored instance
/// must judge the records it sees again as the first run did.
///
/// Written as a binary frame, not through `Codable`: the table is bytes already
/// (``KeyedStateCodec``), which `Codable` would write one node per byte, and timers are
/// columns (raw times, domains and sequence numbers; keys raw when they are numbers). Parts
/// written before this frame (a `Codable` value) are still read.
@usableFromInline
struct KeyedProcessSnapshot<Key: Hashable & Codable & Sendable>: Codable {
    let table: [UInt8]
    let timers: [TimerQueue<Key>.Entry]
    /// `nil` before the first watermark, and in parts written before watermarks were kept.
    var watermark: Duration?

    private static var frameTag: UInt8 { 0xD1 }

    func encoded() throws -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.append(Self.frameTag)
        writer.bytes.append(watermark == nil ? 0 : 1)
        if let watermark {
            writer.fixed64(UInt64(bitPattern: watermark.components.seconds))
            writer.fixed64(UInt64(bitPattern: watermark.components.attoseconds))
        }
        writer.varint(UInt64(table.count))
        writer.bytes.append(contentsOf: table)
        writer.varint(UInt64(timers.count))
        for timer in timers {
            writer.fixed64(UInt64(bitPattern: timer.time.components.seconds))
            writer.fixed64(UInt64(bitPattern: timer.time.components.attoseconds))
            writer.bytes.append(timer.domain == .eventTime ? 0 : 1)
            writer.fixed64(timer.sequence)
        }
        let keys = try KeyColumn.encode(timers.map(\.key))
        writer.varint(UInt64(keys.count))
        writer.bytes.append(contentsOf: keys)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> KeyedProcessSnapshot {
        guard bytes.first == frameTag else { return try StateCoder.decode(KeyedProcessSnapshot.self, from: bytes) }
        var reader = ByteReader(bytes: bytes)
        reader.offset = 1
        var watermark: Duration?
        switch try reader.byte() {
        case 0: break
        case 1: watermark = Duration(secondsComponent: Int64(bitPattern: try reader.fixed64()), attosecondsComponent: Int64(bitPattern: try reader.fixed64()))
        default: throw StateDecodingError(reason: "a keyed state part's watermark flag is corrupt")
        }
        let table = try reader.slice(count: try reader.count())
        let timerCount = try reader.count()
        // Each timer takes 25 bytes: a count beyond what is left is corrupt, not a reason to
        // reserve memory for it.
        guard timerCount <= (bytes.count - reader.offset) / 25 else { throw StateDecodingError(reason: "a keyed state part's timers are truncated") }
        var columns: [(time: Duration, domain: TimeDomain, sequence: UInt64)] = []
        columns.reserveCapacity(timerCount)
        for _ in 0..<timerCount {
            let time = Duration(secondsComponent: Int64(bitPattern: try reader.fixed64()), attosecondsComponent: Int64(bitPattern: try reader.fixed64()))
            let domain: TimeDomain
            switch try reader.byte() {
            case 0: domain = .eventTime
            case 1: domain = .processingTime
            default: throw StateDecodingError(reason: "a timer's time domain is corrupt")
            }
            columns.append((time, domain, try reader.fixed64()))
        }
        let keys = try KeyColumn<Key>.decode(try reader.slice(count: try reader.count()))
        guard keys.count == columns.count, reader.isAtEnd else { throw StateDecodingError(reason: "a keyed state part's timers do not match their keys") }
        let timers = zip(keys, columns).map { TimerQueue<Key>.Entry(key: $0, time: $1.time, domain: $1.domain, sequence: $1.sequence) }
        return KeyedProcessSnapshot(table: table, timers: timers, watermark: watermark)
    }

    /// A keyed operator's part at a barrier: the table and the pending timers are copies on
    /// write (free here); they are encoded off the data path. `encodeTable` encodes the
    /// table: the caller's inlined code, specialised for its types.
    @usableFromInline
    static func part(encodeTable: @escaping @Sendable () throws -> [UInt8], timers: TimerQueue<Key>, watermark: Duration?) -> SnapshotPart {
        let pending = timers.pending
        return .deferred {
            try KeyedProcessSnapshot(table: try encodeTable(), timers: TimerQueue<Key>.entries(pending), watermark: watermark).encoded()
        }
    }

    /// Loads the keys instance `instance` of `parallelism` owns from every instance's part
    /// (keys are redistributed by hash) — the table's through `decodeTable(bytes, keep)` —
    /// and returns their timers and the watermark to resume with.
    @usableFromInline
    static func restore(
        _ parts: [Int: [UInt8]], instance: Int, parallelism: Int, decodeTable: ([UInt8], (Key) -> Bool) throws -> Void
    ) throws -> (TimerQueue<Key>, Duration?) {
        var timers = TimerQueue<Key>()
        let owned: (Key) -> Bool = { key in parallelism == 1 || HashPartitioner<Key>.instance(for: key, of: parallelism) == instance }
        var snapshots: [KeyedProcessSnapshot] = []
        for (_, bytes) in parts.sorted(by: { $0.key < $1.key }) {
            let snapshot = try decode(bytes)
            try decodeTable(snapshot.table, owned)
            timers.restore(snapshot.timers, keep: owned)
            snapshots.append(snapshot)
        }
        return (timers, restoredWatermark(snapshots))
    }

    /// The instances' watermarks are equal at an aligned barrier (they get the same ones, in
    /// band); into another parallelism the smallest is taken, so none runs ahead.
    static func restoredWatermark(_ parts: [KeyedProcessSnapshot]) -> Duration? {
        var lowest: Duration?
        for part in parts {
            guard let watermark = part.watermark else { return nil }
            lowest = lowest.map { min($0, watermark) } ?? watermark
        }
        return lowest
    }
}

/// A column of keys: raw little-endian bytes for fixed-width numbers, ``StateCoder`` otherwise.
enum KeyColumn<Key: Codable> {
    static func encode(_ keys: [Key]) throws -> [UInt8] {
        #if _endian(little)
        if _isPOD(Key.self), Key.self is any FixedWidthStateNumber.Type {
            var bytes: [UInt8] = [0xC1]
            keys.withUnsafeBytes { bytes.append(contentsOf: $0) }
            return bytes
        }
        #endif
        return [0xC2] + (try StateCoder.encode(keys))
    }

    static func decode(_ bytes: [UInt8]) throws -> [Key] {
        switch bytes.first {
        case 0xC1:
            #if _endian(little)
            let size = MemoryLayout<Key>.size
            guard _isPOD(Key.self), Key.self is any FixedWidthStateNumber.Type, size > 0, (bytes.count - 1) % size == 0 else {
                throw StateDecodingError(reason: "a key column does not match \(Key.self)")
            }
            return bytes.withUnsafeBytes { raw in
                (0..<(bytes.count - 1) / size).map { raw.loadUnaligned(fromByteOffset: 1 + $0 * size, as: Key.self) }
            }
            #else
            throw StateDecodingError(reason: "a raw key column needs a little-endian machine")
            #endif
        case 0xC2:
            return try StateCoder.decode([Key].self, from: Array(bytes.dropFirst()))
        default:
            throw StateDecodingError(reason: "unknown key column format")
        }
    }
}
