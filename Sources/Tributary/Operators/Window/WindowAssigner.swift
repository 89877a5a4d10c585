/// Which windows a record belongs to (see ``KeyedStream/window(_:eventTime:)``). Windows are
/// aligned to the epoch (time zero): tumbling windows of 10 s start at whole multiples of
/// 10 s, sliding ones at multiples of their slide.
public struct WindowAssigner: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case tumbling(size: Duration)
        case sliding(size: Duration, slide: Duration)
        case session(gap: Duration)
    }

    let kind: Kind
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
    /// own window before any merging.
    @usableFromInline
    func windows(containing time: Duration) -> [TimeWindow] {
        switch kind {
        case .tumbling(let size):
            let start = Self.alignedStart(time, to: size)
            return [TimeWindow(start: start, end: start + size)]
        case .sliding(let size, let slide):
            var windows: [TimeWindow] = []
            var start = Self.alignedStart(time, to: slide)
            while start > time - size {
                windows.append(TimeWindow(start: start, end: start + size))
                start -= slide
            }
            return windows.reversed()
        case .session(let gap):
            return [TimeWindow(start: time, end: time + gap)]
        }
    }

    /// The largest multiple of `unit` at or before `time`.
    static func alignedStart(_ time: Duration, to unit: Duration) -> Duration {
        let (time, unit) = (time.nanosecondsSinceZero, unit.nanosecondsSinceZero)
        let remainder = time % unit
        return .nanoseconds(remainder >= 0 ? time - remainder : time - remainder - unit)
    }

    /// What is out of range, in words.
    @usableFromInline
    var problem: String? {
        switch kind {
        case .tumbling(let size):
            if size <= .zero { return "a tumbling window's size \(size) must be positive" }
        case .sliding(let size, let slide):
            if size <= .zero { return "a sliding window's size \(size) must be positive" }
            if slide <= .zero { return "a sliding window's slide \(slide) must be positive" }
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

extension Duration {
    /// The duration in whole nanoseconds (event times up to ±292 years from zero).
    var nanosecondsSinceZero: Int64 {
        let parts = components
        return parts.seconds &* 1_000_000_000 &+ parts.attoseconds / 1_000_000_000
    }
}
