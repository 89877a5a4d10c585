/// The fused operators of one instance of a physical vertex: steps run one after another over
/// the batch in `head`, then the emitter sends the result downstream (or the last step is a sink).
///
/// Owned by one ``OperatorInstance`` and used only from its run loop, so it needs no lock;
/// its async methods run on that actor (`nonisolated(nonsending)`).
@usableFromInline
final class Chain {
    /// The input buffer of the first step (for a source vertex: the source's output buffer).
    @usableFromInline let head: AnyObject
    let steps: [Step]
    let emitter: (any ChainEmitter)?
    let instance: Int
    /// The source's node id and records read, for a source vertex.
    let sourceNodeID: Int?
    let sourceName: String?
    @usableFromInline var sourceRecords = 0
    let supervision: SupervisionContext
    /// Set when the job takes checkpoints.
    @usableFromInline let checkpoints: CheckpointHooks?
    /// The last barrier this instance snapshotted at.
    @usableFromInline var lastBarrier: Int64 = 0
    /// A source vertex's final position, set when its source is exhausted.
    @usableFromInline var finalSourcePosition: [UInt8]?
    /// Where the loop publishes its counts for the metrics sampler (`nil`: no metrics).
    let meter: InstanceMeter?
    /// Time spent in the emitter during the current batch (measured only with a meter).
    private var emitTime: Duration = .zero
    /// A restarted step whose retry has not completed yet: which step, the failure, and when
    /// it happened (real time, for the recovery latency).
    private var pendingRecovery: (step: Int, position: Int, failure: OperatorFailure, began: ContinuousClock.Instant)?

    /// The vertex's instances that are down, when its head fails over; this instance marks
    /// itself down while it recovers.
    let replicaHealth: ReplicaHealth?

    init(
        head: AnyObject, steps: [Step], emitter: (any ChainEmitter)?, instance: Int, source: (id: Int, name: String)?,
        supervision: SupervisionContext, checkpoints: CheckpointHooks?, meter: InstanceMeter? = nil, replicaHealth: ReplicaHealth? = nil
    ) {
        self.meter = meter
        self.replicaHealth = replicaHealth
        self.checkpoints = checkpoints
        self.head = head
        self.steps = steps
        self.hasTimers = steps.contains { $0.timers != nil }
        self.hasWatermarkGenerators = steps.contains { $0.watermarkGenerator != nil }
        self.emitter = emitter
        self.instance = instance
        self.sourceNodeID = source?.id
        self.sourceName = source?.name
        self.supervision = supervision
    }

    /// Runs every step over the batch in `head` and emits the result. A step that fails is
    /// handed to its operator's supervisor, which restarts it and retries the record, skips the
    /// record, or escalates; the steps after it see the batch only once it has been processed.
    /// - Throws: ``OperatorFailure`` when a failure escalated, or the job's stop error.
    @usableFromInline
    nonisolated(nonsending) func process() async throws {
        guard let meter else { return try await runSteps(from: 0) }
        let began = ContinuousClock.now
        emitTime = .zero
        defer {
            let total = ContinuousClock.now - began
            let emitted = emitTime
            meter.update { reading in
                reading.batches += 1
                reading.busy += total - emitted
                reading.emitting += emitted
                for step in steps { reading.records[step.nodeID] = (step.recordsIn, step.recordsOut) }
                if let sourceNodeID { reading.records[sourceNodeID] = (0, sourceRecords) }
            }
        }
        try await runSteps(from: 0)
    }

    /// Runs the steps from `first` on over the batch in step `first`'s input buffer, then emits.
    private nonisolated(nonsending) func runSteps(from first: Int) async throws {
        var index = first
        var start = 0
        while index < steps.count {
            let step = steps[index]
            let ordinalBefore = step.ordinal
            switch await step.run(from: start) {
            case .completed:
                await completeRecovery(step: index)
                index += 1
                start = 0
            case .failed(let failedAt, let recordsIn, _, let error, let record):
                // An async step (an async sink's write, a call of mapAsync) ended by the job's
                // cancellation did not fail: the job is stopping.
                if isJobCancellation(error) { throw error }
                if let pending = pendingRecovery, pending.step == index, failedAt > pending.position {
                    // The retried record went through; a later one failed.
                    await completeRecovery(step: index)
                }
                let failure = OperatorFailure(
                    operatorName: step.name, instance: instance, recordIndex: ordinalBefore + recordsIn, record: record,
                    error: error)
                start = try await recover(step: index, from: failure, at: failedAt)
            }
        }
        if supervision.restoreProbe.isPending, supervision.restoreProbe.claim() {
            await supervision.job.restoreCompleted(checkpoint: supervision.restoreProbe.checkpoint)
        }
        if meter != nil, let emitter {
            let began = ContinuousClock.now
            try await emitter.emit()
            emitTime += ContinuousClock.now - began
        } else {
            try await emitter?.emit()
        }
        if hasWatermarkGenerators { try await forwardGeneratedWatermarks() }
    }

    private nonisolated(nonsending) func completeRecovery(step index: Int) async {
        guard let pending = pendingRecovery, pending.step == index else { return }
        pendingRecovery = nil
        await comeBack(after: pending.failure)
        await supervision.job.recovered(
            Recovery(cause: pending.failure, kind: .operatorRestart, latency: ContinuousClock.now - pending.began))
    }

    /// Applies the supervisor's decision for a failed step; returns where in the batch to go on.
    private nonisolated(nonsending) func recover(step index: Int, from failure: OperatorFailure, at position: Int) async throws -> Int {
        let began = ContinuousClock.now
        let step = steps[index]
        guard let supervisor = supervision.operators[step.nodeID] else { throw failure }
        var current = failure
        while true {
            switch await supervisor.handle(current) {
            case .retry(let attempt, let delay, let failover):
                // Only the head of a failover vertex gets its input round-robin, around it.
                if failover, index == 0, let replicaHealth, replicaHealth.markDown(instance) {
                    await supervision.job.failoverStarted(current, siblings: replicaHealth.count - 1, delay: delay)
                }
                if let next = try await restart(step, attempt: attempt, delay: delay, after: current, recordIndex: failure.recordIndex) {
                    current = next
                    continue
                }
                let sameRecord = pendingRecovery.map { $0.step == index && $0.position == position } ?? false
                pendingRecovery = (index, position, current, sameRecord ? (pendingRecovery?.began ?? began) : began)
                return position
            case .skip:
                await comeBack(after: current)
                // The skipped record reached the operator: count it as input.
                step.recordsIn += 1
                return position + 1
            case .fail:
                throw current
            }
        }
    }

    /// Takes input again after a failover: the retried record went through, or was skipped.
    private nonisolated(nonsending) func comeBack(after failure: OperatorFailure) async {
        guard let replicaHealth, replicaHealth.markUp(instance) else { return }
        await supervision.job.failoverEnded(failure)
    }

    /// Waits the restart delay and restarts the step (a fresh instance from its factory),
    /// recording the restart; returns the factory's error as the operator's next failure if it
    /// threw.
    private nonisolated(nonsending) func restart(
        _ step: Step, attempt: Int, delay: Duration, after failure: OperatorFailure, recordIndex: Int?
    ) async throws -> OperatorFailure? {
        if delay > .zero { try await supervision.clock.sleep(for: delay) }
        do {
            try await step.restart()
        } catch {
            if isJobCancellation(error) { throw error }
            return OperatorFailure(operatorName: step.name, instance: instance, recordIndex: recordIndex, record: failure.record, error: error)
        }
        await supervision.job.restarted(
            RestartRecord(operatorName: step.name, instance: instance, attempt: attempt, delay: delay, failure: failure))
        return nil
    }

    /// Whether a step of this chain has timers (the loop then watches the clock).
    @usableFromInline let hasTimers: Bool

    /// The earliest processing-time timer of any step.
    var nextTimer: Duration? {
        var earliest: Duration?
        for step in steps {
            if let next = step.timers?.nextProcessingTime(), earliest.map({ next < $0 }) ?? true { earliest = next }
        }
        return earliest
    }

    /// Fires every processing-time timer that is due, step by step; what a timer emits runs
    /// through the rest of the chain at once.
    @usableFromInline
    nonisolated(nonsending) func fireDueTimers() async throws {
        let now = supervision.clock.processingTime
        for index in steps.indices {
            guard let timers = steps[index].timers, let next = timers.nextProcessingTime(), next <= now else { continue }
            try await runHook(step: index, skip: timers.dropFailed) { timers.fire(now) }
            try await runSteps(from: index + 1)
        }
    }

    /// Runs a step's timer or end-of-input handler until it completes. A failure goes to the
    /// operator's supervisor like a record's: restart and run it again, skip (`skip` drops the
    /// timer that failed; without one the hook's work is given up), or escalate.
    private nonisolated(nonsending) func runHook(step index: Int, skip: (() -> Void)?, _ hook: () -> StepOutcome) async throws {
        let step = steps[index]
        var retried: (failure: OperatorFailure, began: ContinuousClock.Instant)?
        var failure: OperatorFailure?
        while true {
            if failure == nil {
                switch hook() {
                case .completed(_, let recordsOut):
                    step.recordsOut += recordsOut
                    if let retried {
                        await supervision.job.recovered(
                            Recovery(cause: retried.failure, kind: .operatorRestart, latency: ContinuousClock.now - retried.began))
                    }
                    return
                case .failed(_, _, let recordsOut, let error, let record):
                    step.recordsOut += recordsOut
                    failure = OperatorFailure(operatorName: step.name, instance: instance, recordIndex: nil, record: record, error: error)
                }
            }
            guard let current = failure else { continue }
            failure = nil
            guard let supervisor = supervision.operators[step.nodeID] else { throw current }
            switch await supervisor.handle(current) {
            case .retry(let attempt, let delay, _):
                if let next = try await restart(step, attempt: attempt, delay: delay, after: current, recordIndex: nil) {
                    failure = next
                    continue
                }
                retried = (retried?.failure ?? current, retried?.began ?? ContinuousClock.now)
            case .skip:
                guard let skip else { return }
                skip()
            case .fail:
                throw current
            }
        }
    }

    /// Whether a step makes watermarks (``DataStream/withTimestamps(_:watermarks:)``).
    @usableFromInline let hasWatermarkGenerators: Bool

    /// Forwards the watermark each generator made from the records it just saw, after them.
    private nonisolated(nonsending) func forwardGeneratedWatermarks() async throws {
        for index in steps.indices {
            guard let generator = steps[index].watermarkGenerator, let watermark = generator.take() else { continue }
            try await advanceWatermark(watermark, from: index + 1)
        }
    }

    /// The watermark reached `watermark`: from step `first` on, each step with event-time
    /// timers fires what it passed (their output runs through the rest of the chain first),
    /// then the watermark goes downstream. A generator replaces it with its own.
    @usableFromInline
    nonisolated(nonsending) func advanceWatermark(_ watermark: Duration, from first: Int = 0) async throws {
        var index = first
        while index < steps.count {
            let step = steps[index]
            if step.watermarkGenerator != nil { return }
            if let advance = step.advanceWatermark {
                try await runHook(step: index, skip: step.timers?.dropFailed) { advance(watermark) }
                try await runSteps(from: index + 1)
            }
            index += 1
        }
        try await emitter?.watermark(watermark)
    }

    /// Every input of the steps from `first` on is idle: downstream stops waiting for this
    /// instance's watermark (unless a generator makes its own).
    @usableFromInline
    nonisolated(nonsending) func forwardIdle(from first: Int = 0) async throws {
        if steps[min(first, steps.count)...].contains(where: { $0.watermarkGenerator != nil }) { return }
        try await emitter?.idle()
    }

    /// For the source loop: a generator whose input has delivered nothing for its idle
    /// timeout tells downstream it is idle.
    @usableFromInline
    nonisolated(nonsending) func checkIdleInputs() async throws {
        var next: Duration?
        for index in steps.indices {
            guard let generator = steps[index].watermarkGenerator else { continue }
            if generator.becameIdle() { try await forwardIdle(from: index + 1) }
            if let deadline = generator.idleDeadline, next.map({ deadline < $0 }) ?? true { next = deadline }
        }
        idleWaker?.arm(next)
    }

    /// Wakes a source waiting in its read when an input's idle timeout runs out, so the
    /// source loop notices the idleness while nothing arrives (set by ``sourceStarted(_:at:)``).
    var idleWaker: TimerWaker?

    /// The source loop ended: no more wake-ups for it.
    @usableFromInline
    func stopIdleWaker() {
        idleWaker?.cancel()
        idleWaker = nil
    }

    /// Snapshots every step at barrier `id` (sinks seal epoch `id`), acknowledges it to the
    /// coordinator and forwards the barrier downstream.
    @usableFromInline
    nonisolated(nonsending) func barrier(_ id: Int64, sourcePosition: [UInt8]?, alignment: Duration) async throws {
        guard let checkpoints else { return }
        let arrived = ContinuousClock.now
        lastBarrier = id
        var parts = try await snapshot(epoch: id)
        if let sourcePosition, let sourceName { parts[sourceName] = .bytes(sourcePosition) }
        // Forward first, acknowledge after (Flink's order): downstream starts its own snapshot
        // while this one's parts wait to be written.
        try await emitter?.barrier(id)
        let stall = ContinuousClock.now - arrived
        await checkpoints.coordinator.acknowledge(
            id, CheckpointAck(key: checkpoints.key, fileName: checkpoints.fileName, parts: parts, alignment: alignment, stall: stall))
    }

    private nonisolated(nonsending) func snapshot(epoch: Int64) async throws -> [String: SnapshotPart] {
        var parts: [String: SnapshotPart] = [:]
        for step in steps {
            parts[step.name + Self.ordinalSuffix] = .bytes((try? StateCoder.encode(step.ordinal)) ?? [])
            guard let snapshot = step.snapshot else { continue }
            do {
                if let part = try await snapshot(epoch) { parts[step.name] = part }
            } catch {
                if isJobCancellation(error) { throw error }
                throw await escalate(OperatorFailure(operatorName: step.name, instance: instance, recordIndex: nil, record: nil, error: error))
            }
        }
        return parts
    }

    /// The checkpoint part that holds a step's record position.
    static let ordinalSuffix = "#records"

    /// The source position to start from, when the job was restored from a checkpoint.
    @usableFromInline
    var restoredSourcePosition: [UInt8]? {
        checkpoints?.restoredPosition(source: sourceName ?? "", instance: instance)
    }

    /// Applies the restored checkpoint to every step.
    func restore(parallelism: Int) throws {
        guard let restored = checkpoints?.restored else { return }
        for step in steps {
            if let bytes = restored.parts[step.name + Self.ordinalSuffix]?[instance] {
                step.ordinalOffset = (try? StateCoder.decode(Int.self, from: bytes)) ?? 0
            }
            guard let restore = step.restore, let parts = restored.parts[step.name] else { continue }
            do {
                try restore(parts, instance, parallelism)
            } catch {
                throw OperatorFailure(operatorName: step.name, instance: instance, recordIndex: nil, record: nil, error: error)
            }
        }
    }

    /// The input has ended: lets every step emit what it held back, reports the final state to
    /// the coordinator (sinks seal their last output for the checkpoint that will include it),
    /// lets every step finish (sinks close)
    /// and tells downstream.
    @usableFromInline
    nonisolated(nonsending) func finish() async throws {
        // What operators emit at the end (event-time timers under the final watermark) flows
        // through the rest of the chain before the final state is taken.
        // An input that ended because the job is stopping is not complete: what is held back
        // stays in the final checkpoint and is emitted when the resumed job's input ends. The
        // job then ends `.stopped` (resumable), also when its sources had all been exhausted.
        let stopping = isDraining
        // Timers that came due before the input ended fire before anything ends, also those
        // their handlers set for a time already due (a bounded number of rounds; what is left
        // is counted as pending when the input ends).
        if hasTimers {
            for _ in 0..<1_000 {
                guard let next = nextTimer, next <= supervision.clock.processingTime else { break }
                try await fireDueTimers()
            }
        }
        for index in steps.indices {
            guard let endOfInput = steps[index].endOfInput else { continue }
            if stopping {
                sourceEndedEarly()
                continue
            }
            try await runHook(step: index, skip: steps[index].timers?.dropFailed, endOfInput)
            try await runSteps(from: index + 1)
        }
        if let checkpoints {
            // A source's final state must hold its position: without it a checkpoint would
            // resume the source from its start.
            if sourceName != nil, finalSourcePosition == nil { throw JobStoppedError(reason: .cancelled) }
            let epoch = await checkpoints.coordinator.finishingEpoch(for: checkpoints.key)
            var parts = try await snapshot(epoch: epoch)
            if let finalSourcePosition, let sourceName { parts[sourceName] = .bytes(finalSourcePosition) }
            await checkpoints.coordinator.finished(
                CheckpointAck(key: checkpoints.key, fileName: checkpoints.fileName, parts: parts, alignment: .zero, stall: .zero))
        }
        for step in steps {
            do {
                try await step.finish()
            } catch {
                if isJobCancellation(error) { throw error }
                throw await escalate(OperatorFailure(operatorName: step.name, instance: instance, recordIndex: nil, record: nil, error: error))
            }
        }
        try await emitter?.finish()
    }

    /// A source's reader is made: a source with job-long work can be woken by a stop request,
    /// and reports what a restore lost (records it handed over after the restored checkpoint).
    @usableFromInline
    func sourceStarted<S: Source>(_ source: S, at position: S.Position?) {
        guard let scoped = source as? any JobScopedSource else { return }
        supervision.control.onStopRequest { scoped.wake() }
        if hasWatermarkGenerators { idleWaker = TimerWaker(clock: supervision.clock, keepEarlier: true, wake: { scoped.wake() }) }
        // A source idle in its read still takes part in checkpoints: a trigger wakes it.
        checkpoints?.trigger.onChange { scoped.wake() }
        let lost = scoped.recordsLost(restoringTo: position as? Int)
        guard lost > 0 else { return }
        let name = sourceName ?? "source"
        supervision.job.events.emit(
            JobEvent(
                kind: .warning, jobID: supervision.job.jobID, operatorName: name,
                message: "source '\(name)' cannot be replayed: \(lost) records it handed over after checkpoint \(checkpoints?.restored.map { String($0.id) } ?? "-") are lost by this recovery (at-most-once)"))
    }

    /// Whether the job asked its sources to stop reading (``LocalEnvironment/stop()``).
    @usableFromInline var isDraining: Bool { supervision.control.isDraining }

    @usableFromInline func sourceEndedEarly() { supervision.control.sourceEndedEarly() }

    /// Records in and out per logical operator, for the job's metrics.
    var counters: [(nodeID: Int, recordsIn: Int, recordsOut: Int, lateRecordsDropped: Int)] {
        var result = steps.map { ($0.nodeID, $0.recordsIn, $0.recordsOut, $0.lateRecordsDropped?() ?? 0) }
        if let sourceNodeID { result.insert((sourceNodeID, 0, sourceRecords, 0), at: 0) }
        return result
    }
}

extension Chain {
    /// A failure of the source itself (opening or reading), attributed to the source operator;
    /// recorded in the job's history and escalated (a source is not restarted).
    @usableFromInline
    nonisolated(nonsending) func sourceFailure(_ error: any Error) async -> OperatorFailure {
        await escalate(OperatorFailure(operatorName: sourceName ?? "source", instance: instance, recordIndex: nil, record: nil, error: error))
    }

    /// Records a failure that no policy handles (opening a source, closing a sink) and makes it
    /// the job's cause.
    nonisolated(nonsending) func escalate(_ failure: OperatorFailure) async -> OperatorFailure {
        _ = await supervision.job.record(failure)
        // An unrecoverable error (a source made with a value it cannot use) fails the job at
        // once: no restore could change it.
        let fatal = failure.error is any UnrecoverableError
        await supervision.job.escalate(failure, reason: "'\(failure.operatorName)' cannot be restarted after this failure", fatal: fatal)
        return failure
    }
}
