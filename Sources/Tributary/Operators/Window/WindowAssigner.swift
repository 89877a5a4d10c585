/// Which windows a record belongs to (see ``KeyedStream/window(_:eventTime:)``). Windows are
/// aligned to the epoch (time zero): tumbling windows of 10 s start at whole multiples of
/// 10 s, sliding ones at multiples of their slide.
public struct WindowAssigner: Sendable, Hashable, CustomStringConvertible {
    @usableFromInline
    enum Kind: Sendable, Hashable {
        case tumbling(size: Duration)
        case sliding(size: Duration, slide: Duration)
        case session(gap: Duration)
    }

    @usableFromInline let kind: Kind
    /// The clock the windows follow: the records' event time (fired by the watermark) or the
    /// job's processing time.
    public let time: TimeDomain

    /// Back-to-back windows of `size`: each record is in exactly one.
    public static func tumbling(size: Duration, time: TimeDomain = .eventTime) -> WindowAssigner {
        WindowAssigner(kind: .tumbling(size: size), time: time)
    }

    /// Windows of `size` starting every `slide`: a record is in `size / slide` of them (rounded
    /// up), or in none when it falls in a gap (`slide` larger than `size`).
    public static func sliding(size: Duration, slide: Duration, time: TimeDomain = .eventTime) -> WindowAssigner {
        WindowAssigner(kind: .sliding(size: size, slide: slide), time: time)
    }

    /// Per key, a window grows while records come at most `gap` apart: a record at `t` opens
    /// `[t, t + gap)`, and windows that overlap or touch merge into one.
    public static func session(gap: Duration, time: TimeDomain = .eventTime) -> WindowAssigner {
        WindowAssigner(kind: .session(gap: gap), time: time)
    }

    /// Whether windows of one key merge (sessions).
    @usableFromInline
    var isMerging: Bool {
        if case .session = kind { return true }
        return false
    }

    /// The windows a record at `time` belongs to, earliest first; for sessions, the record's
    /// own window before any merging. (The operator uses ``forEachWindow(containing:_:)``,
    /// which builds no array.)
    func windows(containing time: Duration) -> [TimeWindow] {
        var windows: [TimeWindow] = []
        forEachWindow(containing: time) { windows.append($0) }
        return windows.sorted()
    }

    /// Calls `body` with each window a record at `time` belongs to (sessions: its own window),
    /// without building an array (this runs once per record).
    @inlinable
    func forEachWindow(containing time: Duration, _ body: (TimeWindow) -> Void) {
        switch kind {
        case .tumbling(let size):
            let start = Self.alignedStart(time, to: size)
            body(TimeWindow(start: start, end: start + size))
        case .sliding(let size, let slide):
            var start = Self.alignedStart(time, to: slide)
            while start > time - size {
                body(TimeWindow(start: start, end: start + size))
                start -= slide
            }
        case .session(let gap):
            body(TimeWindow(start: time, end: time + gap))
        }
    }

    /// The largest multiple of `unit` at or before `time`. In attoseconds (`Int128`): no
    /// overflow for any time a `Duration` holds.
    @inlinable
    static func alignedStart(_ time: Duration, to unit: Duration) -> Duration {
        let (time, unit) = (time.attoseconds, unit.attoseconds)
        let remainder = time % unit
        return Duration(attoseconds: remainder >= 0 ? time - remainder : time - remainder - unit)
    }

    /// The most windows one record may be in: a sliding window far larger than its slide would
    /// make each record cost that many updates.
    static let maximumWindowsPerRecord = 10_000

    /// What is out of range, in words.
    @usableFromInline
    var problem: String? {
        switch kind {
        case .tumbling(let size):
            if size <= .zero { return "a tumbling window's size \(size) must be positive" }
        case .sliding(let size, let slide):
            if size <= .zero { return "a sliding window's size \(size) must be positive" }
            if slide <= .zero { return "a sliding window's slide \(slide) must be positive" }
            if size / slide > Double(Self.maximumWindowsPerRecord) {
                return "a sliding window of \(size) every \(slide) puts each record in \(Int(size / slide)) windows; at most \(Self.maximumWindowsPerRecord) are allowed"
            }
        case .session(let gap):
            if gap <= .zero { return "a session window's gap \(gap) must be positive" }
        }
        return nil
    }

    public var description: String {
        let clock = time == .eventTime ? "" : ", time: .processingTime"
        switch kind {
        case .tumbling(let size): return "tumbling(size: \(size)\(clock))"
        case .sliding(let size, let slide): return "sliding(size: \(size), slide: \(slide)\(clock))"
        case .session(let gap): return "session(gap: \(gap)\(clock))"
        }
    }
}
