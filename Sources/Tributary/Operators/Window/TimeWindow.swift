/// A window of time, `[start, end)`: it holds the records whose time is at least `start` and
/// before `end`.
public struct TimeWindow: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let start: Duration
    public let end: Duration

    public init(start: Duration, end: Duration) {
        self.start = start
        self.end = end
    }

    /// The last instant in the window: an event-time window fires once the watermark reaches
    /// it, a processing-time window once the job's processing time does.
    public var maxTimestamp: Duration { end - .nanoseconds(1) }

    /// Whether the two windows overlap or touch (session windows that do merge).
    @usableFromInline
    func touches(_ other: TimeWindow) -> Bool { start <= other.end && other.start <= end }

    public static func < (lhs: TimeWindow, rhs: TimeWindow) -> Bool {
        (lhs.start, lhs.end) < (rhs.start, rhs.end)
    }

    public var description: String { "[\(start), \(end))" }
}
