/// The barrier alignment of one instance (Flink's aligned checkpoints), as a pure state
/// machine: the instance feeds it every barrier and end of input it receives, and applies the
/// actions it returns to its inbox and its operators.
///
/// When barrier n arrives on a lane, that lane is blocked until barrier n has arrived on every
/// lane that has not ended, so the snapshot holds the effect of exactly the records before
/// barrier n on every input. Whatever interrupts an alignment unblocks every lane first:
///
/// ```
///  lane 0: ── n ─────────────── (blocked) ──────▶     lane 0: ── n ──── (blocked) ─ unblock ▶
///  lane 1: ────────── n ─▶ snapshot n, unblock ▶      lane 1: ───────── n+1 ─▶ abort n, align n+1
/// ```
///
/// - a newer barrier (n+1 while n aligns: n was abandoned, or a source skipped it) aborts n and
///   starts aligning n+1;
/// - ``abort(upTo:)`` (the coordinator abandoned n: timeout, recovery) and ``stop()`` unblock
///   every lane;
/// - end of input on a lane counts as that lane's barrier for every later alignment.
///
/// Barriers of checkpoints already snapshotted or aborted are ignored, so a lane that still
/// carries the older barrier of an abandoned checkpoint never blocks again.
struct BarrierHandler: Sendable {
    enum Action: Equatable, Sendable {
        /// Stop taking from this lane until the next ``unblockAll``.
        case block(lane: Int)
        /// Take from every lane again.
        case unblockAll
        /// Barrier n has arrived on every open lane: snapshot, forward n downstream, acknowledge.
        case snapshot(Int64)
        /// This instance gave up aligning checkpoint n (a newer barrier overtook it, the
        /// coordinator abandoned it, or the job stops); n can no longer complete here.
        case aborted(Int64)
    }

    let laneCount: Int
    private(set) var ended: Set<Int> = []
    /// The checkpoint being aligned, and the lanes its barrier has arrived on.
    private(set) var aligning: (id: Int64, arrived: Set<Int>)?
    /// The newest checkpoint snapshotted or aborted here; older barriers are stale.
    private(set) var lastHandled: Int64 = 0
    private var blocked = false

    init(laneCount: Int) {
        self.laneCount = laneCount
    }

    var isAligning: Bool { aligning != nil }

    mutating func barrier(_ id: Int64, lane: Int) -> [Action] {
        guard id > lastHandled, !ended.contains(lane) else { return [] }
        var actions: [Action] = []
        if let current = aligning {
            if id < current.id { return [] }
            if id == current.id {
                aligning?.arrived.insert(lane)
                let completed = completeIfAligned()
                // Every lane that delivered the barrier waits for the others: its records after
                // the barrier belong to the next checkpoint.
                return completed.isEmpty ? [.block(lane: lane)] : completed
            }
            // A newer barrier overtook the alignment in progress.
            actions += interrupt(current.id)
        }
        aligning = (id, [lane])
        let completed = completeIfAligned()
        if completed.isEmpty {
            blocked = true
            actions.append(.block(lane: lane))
        }
        return actions + completed
    }

    /// A lane ended; it no longer holds up this or any later alignment.
    mutating func endOfInput(lane: Int) -> [Action] {
        guard !ended.contains(lane) else { return [] }
        ended.insert(lane)
        aligning?.arrived.remove(lane)
        return completeIfAligned()
    }

    /// The coordinator abandoned every checkpoint up to `id`: stop aligning it.
    mutating func abort(upTo id: Int64) -> [Action] {
        guard let current = aligning, current.id <= id else {
            lastHandled = max(lastHandled, id)
            return []
        }
        lastHandled = max(lastHandled, id)
        return interrupt(current.id)
    }

    /// The job stops: nothing more is aligned.
    mutating func stop() -> [Action] {
        guard let current = aligning else { return [] }
        return interrupt(current.id)
    }

    private mutating func interrupt(_ id: Int64) -> [Action] {
        aligning = nil
        lastHandled = max(lastHandled, id)
        var actions: [Action] = []
        if blocked {
            blocked = false
            actions.append(.unblockAll)
        }
        actions.append(.aborted(id))
        return actions
    }

    private mutating func completeIfAligned() -> [Action] {
        guard let current = aligning, current.arrived.count + ended.count >= laneCount else { return [] }
        aligning = nil
        lastHandled = current.id
        var actions: [Action] = []
        if blocked {
            blocked = false
            actions.append(.unblockAll)
        }
        actions.append(.snapshot(current.id))
        return actions
    }
}
