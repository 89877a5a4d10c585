/// The barrier alignment of one instance with several input lanes (Flink's aligned
/// checkpoints): when barrier n arrives on a lane, that lane is blocked until barrier n has
/// arrived on every lane that has not ended, so the snapshot holds the effect of exactly the
/// records before barrier n on every input. Pure state; the instance applies its actions.
struct BarrierAligner {
    enum Action: Equatable {
        /// Stop taking from this lane until the alignment completes.
        case block(lane: Int)
        /// Barrier n has arrived on every open lane: snapshot, forward n, unblock every lane.
        case aligned(Int64)
        /// A barrier of an older checkpoint (abandoned): ignore it.
        case ignore
    }

    let laneCount: Int
    private(set) var ended: Set<Int> = []
    private(set) var current: Int64?
    private var arrived: Set<Int> = []

    init(laneCount: Int) {
        self.laneCount = laneCount
    }

    var isAligning: Bool { current != nil }

    mutating func barrier(_ id: Int64, lane: Int) -> [Action] {
        var actions: [Action] = []
        if let current {
            if id < current { return [.ignore] }
            if id > current {
                // A newer barrier overtook an abandoned checkpoint: start over with it.
                arrived = []
            }
        }
        current = id
        arrived.insert(lane)
        if isComplete {
            actions.append(.aligned(id))
            reset()
        } else {
            actions.append(.block(lane: lane))
        }
        return actions
    }

    /// A lane ended; it no longer holds up an alignment.
    mutating func endOfStream(lane: Int) -> Action? {
        ended.insert(lane)
        arrived.remove(lane)
        guard let current, isComplete else { return nil }
        reset()
        return .aligned(current)
    }

    private var isComplete: Bool { arrived.union(ended).count == laneCount }

    private mutating func reset() {
        current = nil
        arrived = []
    }
}
