/// One key's open windows and their accumulators, in a keyed state table: a few per key
/// (one or two tumbling windows in flight, `size / slide` sliding ones, the sessions), so a
/// linear search beats any index.
@usableFromInline
struct WindowPanes<Accumulator: Codable & Sendable>: Codable, Sendable {
    @usableFromInline var windows: [TimeWindow] = []
    @usableFromInline var accumulators: [Accumulator] = []

    @inlinable
    init() {}

    @inlinable
    func index(of window: TimeWindow) -> Int? {
        windows.firstIndex(of: window)
    }

    @inlinable
    mutating func remove(at index: Int) {
        windows.remove(at: index)
        accumulators.remove(at: index)
    }

    @inlinable
    var isEmpty: Bool { windows.isEmpty }
}
