import Foundation

/// Triggers checkpoints, collects every instance's snapshot, has each complete checkpoint
/// written and committed in the background, and tells every waiter what became of *its*
/// checkpoint. The decisions are ``CheckpointCoordinatorStateMachine``'s; this actor holds the
/// waiters, the write queue and the clock.
///
/// ```
///  trigger n ─▶ sources inject barrier n ─▶ instances snapshot (copy-on-write) and ack ─┐
///    ┌───────────────────────────────────────────────────────────────────────────────────┘
///    └─▶ writer (a task of its own, in order): encode parts, write chk-n/*.state, write
///        _metadata atomically, sinks commit(upTo: n), prune ─▶ waiters of n: completed n
/// ```
/// Acknowledging costs an actor hop: the instance that completes a checkpoint does not wait
/// for its encoding, fsync or commits, so its data path stalls only for the snapshot itself.
actor CheckpointCoordinator {
    let jobID: String
    private let storage: any CheckpointStorage
    private let configuration: FaultToleranceConfiguration
    private let clock: JobClock
    private let events: EventLog
    private let operators: [String]
    private let fingerprint: String
    private let commitSinks: @Sendable (Int64) async throws -> Void
    /// The latest checkpoint sources are asked to inject, and the newest abandoned one.
    let trigger: CheckpointTrigger
    /// Wakes ``runPeriodically()`` between its ticks: records due, a write done, a close.
    private var wakeLoop: AsyncStream<Void>.Continuation?

    private var machine: CheckpointCoordinatorStateMachine
    private var started: [Int64: ContinuousClock.Instant] = [:]
    private var waiters: [Int64: [CheckedContinuation<CheckpointOutcome, Never>]] = [:]
    private var writeQueue: [CheckpointCoordinatorStateMachine.Complete] = []
    /// Whether the writer is encoding and writing a checkpoint now.
    private var writing = false
    private var writer: CheckedContinuation<CheckpointCoordinatorStateMachine.Complete?, Never>?
    private(set) var completed: [CheckpointRecord] = []
    private(set) var failedCount = 0

    init(
        jobID: String, configuration: FaultToleranceConfiguration, storage: any CheckpointStorage, clock: JobClock, events: EventLog,
        expected: Set<String>, operators: [String], fingerprint: String, lastCompleted: Int64?,
        commitSinks: @escaping @Sendable (Int64) async throws -> Void
    ) {
        self.jobID = jobID
        self.configuration = configuration
        self.storage = storage
        self.clock = clock
        self.events = events
        self.operators = operators
        self.fingerprint = fingerprint
        self.commitSinks = commitSinks
        self.trigger = CheckpointTrigger(everyRecords: configuration.checkpointEveryRecords)
        // Never reuse the id of a folder on disk, complete or not.
        let newest = max(lastCompleted ?? 0, storage.list().first ?? 0)
        machine = CheckpointCoordinatorStateMachine(expected: expected, nextID: newest + 1)
    }

    // MARK: Triggering

    /// Takes a checkpoint every `checkpoint_interval` and every `checkpoint_every_records`
    /// records (in `periodic` mode), and abandons one that overran `checkpoint_timeout`, until
    /// the task is cancelled or the coordinator closes.
    func runPeriodically() async {
        let periodic = configuration.checkpointMode == .periodic
        // Wake at least as often as the timeout, so a checkpoint that overran it is abandoned
        // on time even when the interval is longer.
        let tick = periodic ? min(configuration.checkpointInterval, configuration.checkpointTimeout) : configuration.checkpointTimeout
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        wakeLoop = wake
        trigger.onRecordsDue { wake.yield() }
        // Records that came due before the waker was set must not wait for a tick.
        if trigger.recordsDue { wake.yield() }
        let clock = self.clock
        let ticker = Task {
            while true {
                do {
                    try await clock.sleep(for: tick)
                } catch {
                    break
                }
                wake.yield()
            }
            wake.finish()
        }
        defer {
            ticker.cancel()
            wake.finish()
            wakeLoop = nil
        }
        var lastTrigger = clock.now
        for await _ in wakeups {
            guard !Task.isCancelled, machine.closedReason == nil else { return }
            if let id = machine.checkTimeout(now: clock.now, timeout: configuration.checkpointTimeout) {
                abandoned(id, reason: "not complete within checkpoint_timeout (\(configuration.checkpointTimeout.seconds) s)")
            }
            // The next checkpoint waits until the previous one is written: each one waiting
            // holds a copy of the state that diverges from the live one, so checkpoints slower
            // to write than the interval would pile up without bound (a keyed struct state of
            // 600,000 auctions reached 20 GB). Flink's default is the same: at most one
            // checkpoint at a time.
            guard periodic, writeQueue.isEmpty, !writing else { continue }
            if clock.now - lastTrigger >= configuration.checkpointInterval || trigger.recordsDue {
                lastTrigger = clock.now
                _ = start(manual: false)
            }
        }
    }

    /// Starts a checkpoint now (or joins the one collecting, making it manual if asked) and
    /// returns what became of it.
    func checkpointNow(manual: Bool) async -> CheckpointOutcome {
        switch start(manual: manual) {
        case .closed(let reason):
            return .abandoned(id: 0, reason: reason)
        case .started(let id), .joined(let id):
            return await withCheckedContinuation { continuation in
                waiters[id, default: []].append(continuation)
            }
        }
    }

    private func start(manual: Bool) -> CheckpointCoordinatorStateMachine.TriggerResult {
        let (result, complete) = machine.trigger(manual: manual, now: clock.now)
        if case .started(let id) = result {
            trigger.checkpointStarted()
            started[id] = .now
            var event = JobEvent(kind: .checkpointStart, jobID: jobID, message: "checkpoint \(id) started\(manual ? " (manual)" : "")")
            event.attempt = Int(id)
            events.emit(event)
            trigger.request(id)
        }
        if let complete { enqueue(complete) }
        return result
    }

    // MARK: Acknowledgements

    /// An instance's snapshot at barrier `id`. Returns at once: writing happens in the writer.
    func acknowledge(_ id: Int64, _ ack: CheckpointAck) {
        if let complete = machine.acknowledge(id, ack) { enqueue(complete) }
    }

    /// The epoch an instance whose input ended seals its last output under.
    func finishingEpoch(for key: String) -> Int64 {
        machine.finishingEpoch(for: key)
    }

    /// The final state of an instance whose input ended.
    func finished(_ ack: CheckpointAck) {
        if let complete = machine.finished(ack) { enqueue(complete) }
    }

    /// No checkpoint starts or completes from now on (the job stops or recovers): the one
    /// collecting is abandoned and its waiters told; checkpoints already complete are still
    /// written, and the writer ends after them.
    func close(reason: String) {
        if let id = machine.close(reason: reason) { abandoned(id, reason: reason) }
        trigger.abandon(upTo: machine.abandonedUpTo)
        wakeLoop?.yield()
        if writeQueue.isEmpty, let writer {
            self.writer = nil
            writer.resume(returning: nil)
        }
    }

    private func abandoned(_ id: Int64, reason: String) {
        failedCount += 1
        trigger.abandon(upTo: id)
        started[id] = nil
        var event = JobEvent(kind: .checkpointFailed, jobID: jobID, message: "checkpoint \(id) abandoned: \(reason)")
        event.attempt = Int(id)
        events.emit(event)
        resolve(id, .abandoned(id: id, reason: reason))
    }

    private func resolve(_ id: Int64, _ outcome: CheckpointOutcome) {
        for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: outcome) }
    }

    // MARK: Writing

    private func enqueue(_ complete: CheckpointCoordinatorStateMachine.Complete) {
        if let writer {
            self.writer = nil
            writer.resume(returning: complete)
        } else {
            writeQueue.append(complete)
        }
    }

    private func nextToWrite() async -> CheckpointCoordinatorStateMachine.Complete? {
        if !writeQueue.isEmpty { return writeQueue.removeFirst() }
        if machine.closedReason != nil { return nil }
        return await withCheckedContinuation { writer = $0 }
    }

    /// Writes complete checkpoints in order until the coordinator closes and nothing is left.
    /// Runs in a task of its own, so the I/O never blocks the actor (acknowledgements) or an
    /// instance. Not cancellable on purpose: a checkpoint half written is worth nothing, and
    /// closing the coordinator ends this loop.
    func runWriter() async {
        while let complete = await nextToWrite() {
            let began = started.removeValue(forKey: complete.id) ?? .now
            writing = true
            let result = await Self.write(
                complete, began: began, jobID: jobID, storage: storage, operators: operators, fingerprint: fingerprint,
                verify: configuration.verifyWrites, commitSinks: commitSinks)
            writing = false
            written(complete.id, result)
            // Records that came due while this one was written start the next one now.
            if trigger.recordsDue { wakeLoop?.yield() }
        }
    }

    private func written(_ id: Int64, _ result: Result<CheckpointRecord, any Error>) {
        switch result {
        case .success(let record):
            completed.append(record)
            var event = JobEvent(kind: .checkpointComplete, jobID: jobID, message: "checkpoint \(id) complete in \(JobSupervisor.format(record.duration)), \(record.bytes) bytes")
            event.attempt = Int(id)
            event.latencySeconds = record.duration.seconds
            events.emit(event)
            prune(newest: id)
            resolve(id, .completed(record))
        case .failure(let error):
            failedCount += 1
            var event = JobEvent(kind: .checkpointFailed, jobID: jobID, message: "checkpoint \(id) failed: \(error)")
            event.attempt = Int(id)
            event.error = "\(error)"
            events.emit(event)
            resolve(id, .failed(id: id, reason: "\(error)"))
        }
    }

    /// Encodes and writes every part (with `verify`, reads each back and checks it), then the
    /// manifest, then commits the sinks: off the actor.
    nonisolated static func write(
        _ checkpoint: CheckpointCoordinatorStateMachine.Complete, began: ContinuousClock.Instant, jobID: String,
        storage: any CheckpointStorage, operators: [String], fingerprint: String, verify: Bool,
        commitSinks: @Sendable (Int64) async throws -> Void
    ) async -> Result<CheckpointRecord, any Error> {
        do {
            var files: [CheckpointManifest.File] = []
            for ack in checkpoint.acks {
                let bytes = CheckpointFiles.encode(parts: try ack.parts.mapValues { try $0.encoded() })
                let file = try storage.writePart(checkpoint: checkpoint.id, fileName: ack.fileName, bytes: bytes)
                if verify { try storage.verifyPart(checkpoint: checkpoint.id, file: file) }
                files.append(file)
            }
            let duration = ContinuousClock.now - began
            try storage.writeManifest(
                CheckpointManifest(
                    checkpointID: checkpoint.id, jobID: jobID, createdAt: JobEvent.timestampStyle.format(Date()), manual: checkpoint.manual,
                    files: files, durationSeconds: duration.seconds, operators: operators, graphFingerprint: fingerprint))
            try await commitSinks(checkpoint.id)
            return .success(
                CheckpointRecord(
                    id: checkpoint.id, duration: ContinuousClock.now - began, alignment: checkpoint.acks.map(\.alignment).max() ?? .zero,
                    bytes: files.reduce(0) { $0 + $1.bytes }, manual: checkpoint.manual,
                    barrierStall: checkpoint.acks.map(\.stall).max() ?? .zero))
        } catch {
            return .failure(error)
        }
    }

    /// Removes completed automatic checkpoints beyond `retained_checkpoints` (manual ones stay),
    /// and folders of checkpoints that never completed, older than the newest completed one.
    private func prune(newest: Int64) {
        var kept = 0
        for id in storage.list() {
            guard let manifest = try? storage.manifest(id) else {
                if id < newest { storage.remove(id) }
                continue
            }
            if manifest.manual { continue }
            kept += 1
            if kept > configuration.retainedCheckpoints { storage.remove(id) }
        }
    }
}

/// One completed checkpoint.
public struct CheckpointRecord: Sendable {
    public let id: Int64
    /// From the trigger to the manifest on disk and the sinks committed.
    public let duration: Duration
    /// The longest an instance held inputs blocked while aligning barriers.
    public let alignment: Duration
    /// Bytes of state written.
    public let bytes: Int
    /// Taken by `triggerCheckpoint()` (or joined by it); never pruned automatically.
    public let manual: Bool
    /// The longest any instance's data path stood still for this checkpoint's barrier (from its
    /// arrival, aligned, to its forwarding): the snapshot's cost on the data path. Encoding and
    /// writing happen elsewhere and are not part of it.
    public let barrierStall: Duration

    public init(id: Int64, duration: Duration, alignment: Duration, bytes: Int, manual: Bool, barrierStall: Duration = .zero) {
        self.id = id
        self.duration = duration
        self.alignment = alignment
        self.bytes = bytes
        self.manual = manual
        self.barrierStall = barrierStall
    }
}
