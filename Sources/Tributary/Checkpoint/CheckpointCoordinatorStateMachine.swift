/// The decisions of the checkpoint coordinator, as pure state (no I/O, no clock, no
/// continuations): which checkpoint is collecting acknowledgements, when it is complete, which
/// are being written, and what every waiter learns.
///
/// ```
///  trigger ─▶ collecting n ── every instance acked (or finished before n) ──▶ persist n ─▶ outcome n
///                 │ timeout, close (stop, recovery)                              (written, committed)
///                 └──▶ abandoned n
/// ```
///
/// Checkpoints are collected one at a time but written in the background, in order, while the
/// next one may already collect: an acknowledgement never waits for encoding, fsync or commits.
/// An instance whose input ended reports its final state once; that state stands in for it in
/// every checkpoint from its finishing epoch on. After ``close(reason:)`` nothing completes that
/// was not complete already, so a stop can never complete a checkpoint that lacks a source's
/// position.
struct CheckpointCoordinatorStateMachine: Sendable {
    struct Collecting: Sendable {
        let id: Int64
        var manual: Bool
        /// On the job's clock, for the timeout.
        let startedOnClock: Duration
        var acks: [String: CheckpointAck] = [:]
    }

    /// A checkpoint whose every part is in, handed to the writer.
    struct Complete: Sendable {
        let id: Int64
        let manual: Bool
        let acks: [CheckpointAck]
    }

    enum TriggerResult: Equatable, Sendable {
        /// Checkpoint n started; sources are to inject barrier n.
        case started(Int64)
        /// A checkpoint was already collecting; the caller waits for it (made manual if asked).
        case joined(Int64)
        /// The coordinator is closed: no checkpoint can start.
        case closed(String)
    }

    let expected: Set<String>
    private(set) var nextID: Int64
    private(set) var collecting: Collecting?
    private(set) var finished: [String: CheckpointAck] = [:]
    private(set) var finishingEpochs: [String: Int64] = [:]
    /// Why the coordinator closed, once it has.
    private(set) var closedReason: String?
    /// The newest checkpoint abandoned; instances stop aligning barriers up to it.
    private(set) var abandonedUpTo: Int64 = 0

    init(expected: Set<String>, nextID: Int64) {
        self.expected = expected
        self.nextID = max(nextID, 1)
    }

    mutating func trigger(manual: Bool, now: Duration) -> (TriggerResult, Complete?) {
        if let closedReason { return (.closed(closedReason), nil) }
        if let current = collecting {
            if manual { collecting?.manual = true }
            return (.joined(current.id), nil)
        }
        let id = nextID
        nextID += 1
        collecting = Collecting(id: id, manual: manual, startedOnClock: now)
        return (.started(id), completeIfReady())
    }

    /// An instance's snapshot at barrier `id`; returns the checkpoint if it is now complete.
    mutating func acknowledge(_ id: Int64, _ ack: CheckpointAck) -> Complete? {
        guard closedReason == nil, collecting?.id == id, expected.contains(ack.key) else { return nil }
        collecting?.acks[ack.key] = ack
        return completeIfReady()
    }

    /// The epoch an instance whose input ended seals its last output under: the checkpoint
    /// that will first include its final state.
    mutating func finishingEpoch(for key: String) -> Int64 {
        let epoch = collecting.map { $0.acks[key] == nil ? $0.id : nextID } ?? nextID
        finishingEpochs[key] = epoch
        return epoch
    }

    /// The final state of an instance whose input ended (never of one that was stopped).
    mutating func finished(_ ack: CheckpointAck) -> Complete? {
        guard closedReason == nil, expected.contains(ack.key) else { return nil }
        finished[ack.key] = ack
        return completeIfReady()
    }

    /// Abandons the collecting checkpoint if it started `timeout` or longer ago.
    mutating func checkTimeout(now: Duration, timeout: Duration) -> Int64? {
        guard let current = collecting, now - current.startedOnClock >= timeout else { return nil }
        return abandonCollecting()
    }

    /// No checkpoint starts or completes any more; returns the one abandoned, if any.
    mutating func close(reason: String) -> Int64? {
        guard closedReason == nil else { return nil }
        closedReason = reason
        return abandonCollecting()
    }

    private mutating func abandonCollecting() -> Int64? {
        guard let current = collecting else { return nil }
        collecting = nil
        abandonedUpTo = max(abandonedUpTo, current.id)
        return current.id
    }

    private mutating func completeIfReady() -> Complete? {
        guard let current = collecting else { return nil }
        let covered = expected.allSatisfy { key in
            current.acks[key] != nil || (finished[key] != nil && (finishingEpochs[key] ?? .max) <= current.id)
        }
        guard covered else { return nil }
        collecting = nil
        var acks = current.acks
        for key in expected where acks[key] == nil { acks[key] = finished[key] }
        return Complete(id: current.id, manual: current.manual, acks: acks.values.sorted { $0.key < $1.key })
    }
}

/// One instance's contribution to a checkpoint.
struct CheckpointAck: Sendable {
    let key: String
    let fileName: String
    let parts: [String: SnapshotPart]
    /// How long the instance held inputs blocked while aligning the barrier.
    let alignment: Duration
    /// How long the instance's data path stood still for this barrier: from the barrier's
    /// arrival (alignment done) to the barrier forwarded downstream.
    let stall: Duration
}

/// What became of one checkpoint, as its waiters learn it.
public enum CheckpointOutcome: Sendable {
    /// On disk, verified by its manifest, and every sink committed its output.
    case completed(CheckpointRecord)
    /// Every part was in, but writing it or committing a sink failed.
    case failed(id: Int64, reason: String)
    /// It could not complete: a timeout, a recovery, or the job stopped.
    case abandoned(id: Int64, reason: String)

    public var record: CheckpointRecord? {
        if case .completed(let record) = self { return record }
        return nil
    }
}
