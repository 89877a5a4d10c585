/// The watermark of an instance with several input lanes: the minimum of the lanes'
/// watermarks, leaving out lanes that are idle or have ended. Pure state: the inbox loop feeds
/// it what arrives and forwards what it returns.
///
/// The combined watermark never goes back: a lane that wakes from idleness behind it holds
/// the watermark where it is until it catches up. When every open lane is idle, nothing holds
/// it back: it goes as far as any lane has got (an input that ended counts with its last
/// watermark; Flink takes +∞ there, which would fire timers an idle input may still need);
/// with nowhere to go, the instance is idle itself.
struct WatermarkTracker {
    private var lanes: [Lane]
    /// The combined watermark forwarded last (`nil`: none yet).
    private(set) var current: Duration?
    /// Whether every open lane is idle (and that was forwarded).
    private(set) var isIdle = false

    private struct Lane {
        var watermark: Duration?
        var idle = false
        var ended = false
    }

    /// What the instance does after an input change.
    enum Action: Equatable {
        /// The combined watermark advanced: fire what it passed and forward it.
        case advance(Duration)
        /// Every open lane is idle, and the watermark went as far as any lane got: forward it,
        /// then tell downstream this instance is idle.
        case advanceThenIdle(Duration)
        /// Every open lane is idle: tell downstream this instance is idle too.
        case idle
    }

    init(laneCount: Int) {
        lanes = Array(repeating: Lane(), count: laneCount)
    }

    /// Lane `lane` sent watermark `watermark` (which also means it is active).
    mutating func watermark(_ watermark: Duration, lane: Int) -> Action? {
        guard lanes.indices.contains(lane), !lanes[lane].ended else { return nil }
        lanes[lane].idle = false
        if lanes[lane].watermark.map({ watermark > $0 }) ?? true { lanes[lane].watermark = watermark }
        return combine()
    }

    /// Lane `lane` is idle.
    mutating func idle(lane: Int) -> Action? {
        guard lanes.indices.contains(lane), !lanes[lane].ended else { return nil }
        lanes[lane].idle = true
        return combine()
    }

    /// Lane `lane` delivered records: it is active again, though its watermark is unchanged.
    mutating func records(lane: Int) {
        guard lanes.indices.contains(lane), lanes[lane].idle else { return }
        lanes[lane].idle = false
        isIdle = false
    }

    /// Lane `lane` ended: it holds nothing back any more.
    mutating func ended(lane: Int) -> Action? {
        guard lanes.indices.contains(lane) else { return nil }
        lanes[lane].ended = true
        return combine()
    }

    // One pass over the lanes, no arrays: this runs for every watermark that arrives.
    private mutating func combine() -> Action? {
        var anyOpen = false
        var anyActive = false
        var waitingForALane = false
        var minimum: Duration?
        var furthest: Duration?
        for lane in lanes {
            if let watermark = lane.watermark { furthest = furthest.map { max($0, watermark) } ?? watermark }
            guard !lane.ended else { continue }
            anyOpen = true
            guard !lane.idle else { continue }
            anyActive = true
            // A lane that has sent no watermark yet holds everything back.
            guard let watermark = lane.watermark else {
                waitingForALane = true
                continue
            }
            minimum = minimum.map { min($0, watermark) } ?? watermark
        }
        guard anyOpen else { return nil }
        if !anyActive {
            if let furthest, current.map({ furthest > $0 }) ?? true {
                current = furthest
                isIdle = true
                return .advanceThenIdle(furthest)
            }
            guard !isIdle else { return nil }
            isIdle = true
            return .idle
        }
        isIdle = false
        guard !waitingForALane, let minimum, current.map({ minimum > $0 }) ?? true else { return nil }
        current = minimum
        return .advance(minimum)
    }
}
