import Foundation
import Synchronization

/// Triggers checkpoints, collects every instance's snapshot, writes the checkpoint and, once
/// its manifest is on disk, tells the sinks to commit.
///
/// ```
///  trigger n ─▶ sources inject barrier n ─▶ every instance snapshots at barrier n and acks
///  all acks in ─▶ write chk-n/*.state, then _metadata (atomic) ─▶ sinks commit(upTo: n)
/// ```
/// One checkpoint at a time; one not complete within `checkpoint_timeout` is abandoned (what
/// its sinks sealed is committed by the next one). An instance whose input has ended reports
/// its final state once, and that state stands in for it in every later checkpoint.
actor CheckpointCoordinator {
    struct Ack: Sendable {
        let key: String
        let fileName: String
        let parts: [String: SnapshotPart]
        let alignment: Duration
    }

    private struct Pending {
        let id: Int64
        let started: ContinuousClock.Instant
        let startedOnClock: Duration
        let manual: Bool
        var acks: [String: Ack] = [:]
        var waiters: [CheckedContinuation<CheckpointRecord?, Never>] = []
    }

    let jobID: String
    let root: URL
    private let configuration: FaultToleranceConfiguration
    private let clock: JobClock
    private let events: EventLog
    private let expected: Set<String>
    private let commitSinks: @Sendable (Int64) throws -> Void
    /// The latest checkpoint id sources are asked to inject (0: none yet).
    let trigger = CheckpointTrigger()

    private var nextID: Int64
    private var pending: Pending?
    private var finished: [String: Ack] = [:]
    private var finishingEpochs: [String: Int64] = [:]
    private(set) var completed: [CheckpointRecord] = []
    private(set) var failedCount = 0

    init(
        jobID: String, configuration: FaultToleranceConfiguration, clock: JobClock, events: EventLog, expected: Set<String>,
        lastCompleted: Int64?, commitSinks: @escaping @Sendable (Int64) throws -> Void
    ) {
        self.jobID = jobID
        self.configuration = configuration
        self.clock = clock
        self.events = events
        self.expected = expected
        self.commitSinks = commitSinks
        root = URL(fileURLWithPath: configuration.checkpointDirectory).appendingPathComponent(jobID)
        nextID = (lastCompleted ?? CheckpointFiles.ids(in: URL(fileURLWithPath: configuration.checkpointDirectory).appendingPathComponent(jobID)).first ?? 0) + 1
    }

    /// Takes a checkpoint every `checkpoint_interval` until the task is cancelled.
    func runPeriodically() async {
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: configuration.checkpointInterval)
            } catch {
                return
            }
            if let pending, clock.now - pending.startedOnClock >= configuration.checkpointTimeout {
                abandon(reason: "not complete within checkpoint_timeout (\(configuration.checkpointTimeout.seconds) s)")
            }
            if pending == nil { start(manual: false) }
        }
    }

    /// Starts a checkpoint now (unless one is running) and returns when it completes or fails.
    func checkpointNow(manual: Bool) async -> CheckpointRecord? {
        if pending == nil { start(manual: manual) }
        return await withCheckedContinuation { continuation in
            pending?.waiters.append(continuation)
            if pending == nil { continuation.resume(returning: completed.last) }
        }
    }

    private func start(manual: Bool) {
        let id = nextID
        nextID += 1
        pending = Pending(id: id, started: .now, startedOnClock: clock.now, manual: manual)
        var event = JobEvent(kind: .checkpointStart, jobID: jobID, message: "checkpoint \(id) started\(manual ? " (manual)" : "")")
        event.attempt = Int(id)
        events.emit(event)
        trigger.request(id)
        completeIfReady()
    }

    /// An instance's snapshot at barrier `id`.
    func acknowledge(_ id: Int64, _ ack: Ack) {
        guard pending?.id == id else { return }
        pending?.acks[ack.key] = ack
        completeIfReady()
    }

    /// The epoch an instance whose input ended seals its last output under: the checkpoint
    /// that will first include its final state.
    func finishingEpoch(for key: String) -> Int64 {
        let epoch = pending.map { $0.acks[key] == nil ? $0.id : nextID } ?? nextID
        finishingEpochs[key] = epoch
        return epoch
    }

    /// The final state of an instance whose input ended.
    func finished(_ ack: Ack) {
        finished[ack.key] = ack
        completeIfReady()
    }

    /// Takes the last checkpoint after every instance has finished, so all output is committed.
    func finalCheckpoint() async -> CheckpointRecord? {
        await checkpointNow(manual: false)
    }

    private func completeIfReady() {
        guard let current = pending else { return }
        let covered = expected.allSatisfy { key in
            current.acks[key] != nil || (finished[key] != nil && (finishingEpochs[key] ?? .max) <= current.id)
        }
        guard covered else { return }
        pending = nil
        var acks = current.acks
        for key in expected where acks[key] == nil { acks[key] = finished[key] }
        do {
            let record = try write(current, acks: Array(acks.values))
            try commitSinks(current.id)
            completed.append(record)
            var event = JobEvent(kind: .checkpointComplete, jobID: jobID, message: "checkpoint \(current.id) complete in \(JobSupervisor.format(record.duration)), \(record.bytes) bytes")
            event.attempt = Int(current.id)
            event.latencySeconds = record.duration.seconds
            events.emit(event)
            prune()
            for waiter in current.waiters { waiter.resume(returning: record) }
        } catch {
            failedCount += 1
            var event = JobEvent(kind: .checkpointFailed, jobID: jobID, message: "checkpoint \(current.id) failed: \(error)")
            event.attempt = Int(current.id)
            event.error = "\(error)"
            events.emit(event)
            for waiter in current.waiters { waiter.resume(returning: nil) }
        }
    }

    private func abandon(reason: String) {
        guard let current = pending else { return }
        pending = nil
        failedCount += 1
        var event = JobEvent(kind: .checkpointFailed, jobID: jobID, message: "checkpoint \(current.id) abandoned: \(reason)")
        event.attempt = Int(current.id)
        events.emit(event)
        for waiter in current.waiters { waiter.resume(returning: nil) }
    }

    private func write(_ checkpoint: Pending, acks: [Ack]) throws -> CheckpointRecord {
        let folder = CheckpointFiles.folder(root, id: checkpoint.id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files: [CheckpointFiles.Manifest.File] = []
        for ack in acks.sorted(by: { $0.fileName < $1.fileName }) {
            let bytes = CheckpointFiles.encode(parts: try ack.parts.mapValues { try $0.encoded() })
            try DurableFile.write(Data(bytes), to: folder.appendingPathComponent(ack.fileName))
            files.append(.init(name: ack.fileName, bytes: bytes.count, crc32: CRC32.checksum(bytes)))
        }
        let duration = ContinuousClock.now - checkpoint.started
        let manifest = CheckpointFiles.Manifest(
            checkpointID: checkpoint.id, jobID: jobID, createdAt: JobEvent.timestampStyle.format(Date()), manual: checkpoint.manual,
            files: files, durationSeconds: duration.seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.write(try encoder.encode(manifest), to: folder.appendingPathComponent("_metadata"))
        return CheckpointRecord(
            id: checkpoint.id, duration: duration, alignment: acks.map(\.alignment).max() ?? .zero,
            bytes: files.reduce(0) { $0 + $1.bytes }, manual: checkpoint.manual)
    }

    /// Removes completed automatic checkpoints beyond `retained_checkpoints` (manual ones stay),
    /// and folders of checkpoints that never completed, older than the newest completed one.
    private func prune() {
        guard let newest = completed.last?.id else { return }
        var kept = 0
        for id in CheckpointFiles.ids(in: root) {
            let folder = CheckpointFiles.folder(root, id: id)
            guard let manifest = try? CheckpointFiles.readManifest(folder) else {
                if id < newest { try? FileManager.default.removeItem(at: folder) }
                continue
            }
            if manifest.manual { continue }
            kept += 1
            if kept > configuration.retainedCheckpoints { try? FileManager.default.removeItem(at: folder) }
        }
    }
}

/// One completed checkpoint.
public struct CheckpointRecord: Sendable {
    public let id: Int64
    /// From the trigger to the manifest on disk.
    public let duration: Duration
    /// The longest an instance held inputs blocked while aligning barriers.
    public let alignment: Duration
    /// Bytes of state written.
    public let bytes: Int
    /// Taken by `triggerCheckpoint()`; never pruned automatically.
    public let manual: Bool
}
