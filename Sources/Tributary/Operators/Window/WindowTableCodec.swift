/// A window operator's state table in a checkpoint: each key's open windows and accumulators,
/// written as columns instead of one `Codable` value per key.
///
/// A key's ``WindowPanes`` holds two arrays, which no shaped column can hold, so through
/// ``KeyedStateCodec`` every key went through ``StateCoder``'s self-describing format, field by
/// field: on Nexmark q5 (millions of open sliding windows) that was half of each checkpoint's
/// cost. Here the keys and their window counts go through ``KeyedStateCodec`` (raw or shaped
/// columns), the windows' bounds are raw 64-bit numbers, and the accumulators one shaped
/// column (``StateCoder`` only when they have no one shape).
///
/// Layout: the tag; the length and bytes of the keys → window counts table; the count and raw
/// little-endian `Int64`s of the bounds (start seconds, start attoseconds, end seconds, end
/// attoseconds per window); the count of accumulators, a byte saying how they are written (1
/// shaped, 2 ``StateCoder``), and their bytes. Tables written by ``KeyedStateCodec`` (before
/// this format) are still read.
@usableFromInline
enum WindowTableCodec {
    @usableFromInline static var tag: UInt8 { 0xC4 }

    /// Flattens the table in the caller's specialised code, then writes the columns.
    @inlinable
    static func encode<Key: Hashable & Codable & Sendable, Accumulator: Codable & Sendable>(
        _ table: KeyedStateTable<Key, WindowPanes<Accumulator>>
    ) throws -> [UInt8] {
        let (keys, panes) = table.columns
        var counts: [Int] = []
        counts.reserveCapacity(keys.count)
        var bounds: [Int64] = []
        var accumulators: [Accumulator] = []
        for pane in panes {
            counts.append(pane.windows.count)
            for window in pane.windows {
                bounds.append(window.start.components.seconds)
                bounds.append(window.start.components.attoseconds)
                bounds.append(window.end.components.seconds)
                bounds.append(window.end.components.attoseconds)
            }
            accumulators.append(contentsOf: pane.accumulators)
        }
        return try columns(keys: keys, counts: counts, bounds: bounds, accumulators: accumulators)
    }

    @usableFromInline
    static func columns<Key: Codable & Sendable, Accumulator: Codable & Sendable>(
        keys: [Key], counts: [Int], bounds: [Int64], accumulators: [Accumulator]
    ) throws -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.append(tag)
        let keyed = try KeyedStateCodec.encode(keys: keys, values: counts)
        writer.varint(UInt64(keyed.count))
        writer.bytes.append(contentsOf: keyed)
        writer.varint(UInt64(bounds.count))
        for bound in bounds { writer.fixed64(UInt64(bitPattern: bound)) }
        writer.varint(UInt64(accumulators.count))
        var column = ByteWriter()
        do {
            try ShapedColumnEncoder.encode(accumulators, into: &column)
            writer.bytes.append(1)
        } catch is ShapedColumn.Unshaped {
            column.bytes = try StateCoder.encode(accumulators)
            writer.bytes.append(2)
        }
        writer.bytes.append(contentsOf: column.bytes)
        return writer.bytes
    }

    /// Decodes a table into `table`, keeping the keys `keep` selects; reads tables written by
    /// ``KeyedStateCodec`` too.
    /// - Throws: ``StateDecodingError`` when the bytes are damaged or do not match the types.
    @inlinable
    static func decode<Key: Hashable & Codable & Sendable, Accumulator: Codable & Sendable>(
        _ bytes: [UInt8], into table: inout KeyedStateTable<Key, WindowPanes<Accumulator>>, keep: (Key) -> Bool
    ) throws {
        guard bytes.first == tag else { return try KeyedStateCodec.decode(bytes, into: &table, keep: keep) }
        let (keys, counts, bounds, accumulators) = try columns(of: bytes, Key.self, Accumulator.self)
        var kept = 0
        for key in keys where keep(key) { kept += 1 }
        table.reserveCapacity(table.count + kept)
        var first = 0
        for index in keys.indices {
            let count = counts[index]
            let range = first..<(first + count)
            first += count
            guard keep(keys[index]) else { continue }
            var panes = WindowPanes<Accumulator>()
            panes.windows.reserveCapacity(count)
            for window in range {
                panes.windows.append(
                    TimeWindow(
                        start: Duration(secondsComponent: bounds[4 * window], attosecondsComponent: bounds[4 * window + 1]),
                        end: Duration(secondsComponent: bounds[4 * window + 2], attosecondsComponent: bounds[4 * window + 3])))
            }
            panes.accumulators.append(contentsOf: accumulators[range])
            table.updateValue(panes, forKey: keys[index])
        }
    }

    /// The columns of a table in this format, checked against each other: every count
    /// non-negative, as many windows (four bounds each) and accumulators as the counts add up to.
    @usableFromInline
    static func columns<Key: Codable & Sendable, Accumulator: Codable & Sendable>(
        of bytes: [UInt8], _ keyType: Key.Type, _ accumulatorType: Accumulator.Type
    ) throws -> (keys: [Key], counts: [Int], bounds: [Int64], accumulators: [Accumulator]) {
        var reader = ByteReader(bytes: bytes)
        reader.offset = 1
        let (keys, counts) = try KeyedStateCodec.columns(of: try reader.slice(count: try reader.count()), as: Key.self, Int.self)
        var windows = 0
        for count in counts {
            // Each window takes 32 bytes of bounds: more than the bytes hold is corrupt (and
            // checked before the sum could overflow).
            guard count >= 0, count <= bytes.count, windows <= bytes.count else {
                throw StateDecodingError(reason: "a window count in the window state is corrupt")
            }
            windows += count
        }
        let boundCount = try reader.count()
        guard boundCount == 4 * windows, boundCount <= (bytes.count - reader.offset) / 8 else {
            throw StateDecodingError(reason: "the window state's bounds do not match its \(windows) windows or are truncated")
        }
        var bounds: [Int64] = []
        bounds.reserveCapacity(boundCount)
        for _ in 0..<boundCount { bounds.append(Int64(bitPattern: try reader.fixed64())) }
        let accumulatorCount = try reader.count()
        guard accumulatorCount == windows else {
            throw StateDecodingError(reason: "the window state has \(accumulatorCount) accumulators for \(windows) windows")
        }
        let accumulators: [Accumulator]
        switch try reader.byte() {
        case 1:
            accumulators = try ShapedColumnDecoder.decode(Accumulator.self, count: accumulatorCount, from: &reader)
            guard reader.isAtEnd else { throw StateDecodingError(reason: "\(bytes.count - reader.offset) bytes after the window state") }
        case 2:
            accumulators = try StateCoder.decode([Accumulator].self, from: try reader.slice(count: bytes.count - reader.offset))
            guard accumulators.count == accumulatorCount else { throw StateDecodingError(reason: "the window state's accumulators are truncated") }
        default:
            throw StateDecodingError(reason: "unknown accumulator column format in the window state")
        }
        return (keys, counts, bounds, accumulators)
    }
}
