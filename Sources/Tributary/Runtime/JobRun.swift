import Foundation
import Synchronization

/// One execution of a compiled plan: creates the job folder's records, the supervisors, the
/// inboxes and the instances; runs every instance as a child task of one task group; and with
/// checkpoints, restores the latest valid checkpoint when a failure escalates, as often as
/// `max_recovery_attempts` allows, paced by `restart_strategy`.
struct JobRun {
    enum Outcome {
        /// Completed, cancelled or stopped: the result says which.
        case completed(JobResult)
        case failed(JobResult, OperatorFailure, history: [OperatorFailure])
    }

    let jobID: String
    let jobName: String
    let plan: PhysicalPlan
    let policies: [SupervisionPolicy?]
    let configuration: EnvironmentConfiguration
    let control: JobControl
    let clock: JobClock
    let classifier: (@Sendable (FailureInfo) -> FailoverDecision)?
    let faultHandler: (any FaultHandler)?
    let events: EventLog
    /// Receives the runtime's internal events (tests use it to observe backpressure).
    let observer: (@Sendable (RuntimeEvent) -> Void)?
    /// Where `triggerCheckpoint()` finds the running coordinator.
    let coordinatorSlot: CoordinatorSlot
    /// `fault_injection`, shared by every attempt.
    let faultInjection: FaultInjectionState?
    /// Where ``LocalEnvironment/metrics()`` subscribers get the samples.
    var metricsHub = MetricsHub()

    /// The policy of operators without `supervised(_:)`, from `fault_tolerance`.
    var defaultPolicy: SupervisionPolicy {
        configuration.faultTolerance.strategy == .none ? .stop : .restart(configuration.faultTolerance.restartStrategy)
    }

    var checkpointing: Bool { configuration.faultTolerance.strategy == .checkpoint }

    var storage: any CheckpointStorage {
        makeCheckpointStorage(configuration.faultTolerance, jobID: jobID)
    }

    struct Totals {
        var counters: [(recordsIn: Int, recordsOut: Int, lateRecordsDropped: Int)]
        var checkpoints: [CheckpointRecord] = []
        var failedCheckpoints = 0
        var unexpected: OperatorFailure?
        /// The first operator failure an attempt stopped on, in case no supervisor recorded it.
        var firstFailure: OperatorFailure?
    }

    func execute() async -> Outcome {
        let started = ContinuousClock.now
        let startDate = Date()
        let ft = configuration.faultTolerance
        let jobSupervisor = JobSupervisor(jobID: jobID, events: events, classifier: classifier, escalationTarget: ft.strategy)
        var totals = Totals(counters: Array(repeating: (0, 0, 0), count: plan.nodes.count))

        events.emit(JobEvent(kind: .jobStart, jobID: jobID, message: "job '\(jobName)' started: \(plan.nodes.count) operators in \(plan.vertices.count) actors, fault tolerance \"\(ft.strategy)\""))
        if checkpointing {
            for node in plan.nodes {
                if let source = node.blueprint as? any SourceBlueprint, !source.isReplayable {
                    events.emit(JobEvent(kind: .warning, jobID: jobID, operatorName: node.name, message: "source '\(node.name)' cannot be replayed: after a recovery its records since the last checkpoint are not read again (at-most-once for this source)"))
                }
            }
        }
        var restored: RestoredCheckpoint?
        if checkpointing {
            restored = latestValidCheckpoint()
            if let checked = restored, let mismatch = checkOperators(of: checked) {
                return await failBeforeStart(mismatch, startDate: startDate, started: started)
            }
            if let restored {
                var event = JobEvent(kind: .recoveryStart, jobID: jobID, message: "resuming job \(jobID) from checkpoint \(restored.id)")
                event.attempt = Int(restored.id)
                events.emit(event)
                await jobSupervisor.beginResume(began: started)
            }
        }
        writeSummary(status: "running", startDate: startDate, result: nil, snapshot: nil, lastCheckpoint: restored?.id)
        let recorder = configuration.metricsInterval > .zero
            ? MetricsRecorder(
                jobID: jobID, plan: plan, configuration: configuration, events: events, hub: metricsHub, supervisor: jobSupervisor,
                control: control, started: started)
            : nil

        // Work of sources that outlives an attempt (an async sequence's pump) runs beside
        // every attempt and ends with the job.
        let jobScoped = plan.nodes.compactMap { ($0.blueprint as? any JobScopedBlueprint)?.jobScoped }
        return await withTaskGroup(of: Void.self) { group in
            for source in jobScoped { group.addTask { await source.runForJob() } }
            defer { group.cancelAll() }
            return await runAttempts(
                restored: restored, jobSupervisor: jobSupervisor, totals: &totals, started: started, startDate: startDate, recorder: recorder)
        }
    }

    private func runAttempts(
        restored initial: RestoredCheckpoint?, jobSupervisor: JobSupervisor, totals: inout Totals, started: ContinuousClock.Instant, startDate: Date,
        recorder: MetricsRecorder?
    ) async -> Outcome {
        let ft = configuration.faultTolerance
        var restored = initial
        var recoveryAttempts = 0
        // Recoveries take their delays from restart_strategy; their number is bounded by
        // max_recovery_attempts, not by the strategy's own limit.
        var pacer = RestartPacer(strategy: ft.restartStrategy.withoutLimit, seed: ft.seed)
        var probe = RestoreProbe(pending: restored != nil, checkpoint: restored?.id)
        while true {
            if checkpointing, let failure = await recoverSinks(to: restored?.id) {
                // `submit()`'s task was cancelled while a sink recovered: a cancel, not a failure.
                if isJobCancellation(failure.error) {
                    control.stop(.cancelled)
                    break
                }
                _ = await jobSupervisor.record(failure)
                await jobSupervisor.escalate(failure, reason: "sink '\(failure.operatorName)' cannot recover its output", fatal: true)
                break
            }
            await runAttempt(restored: restored, probe: probe, jobSupervisor: jobSupervisor, totals: &totals, recorder: recorder)
            let snapshot = await jobSupervisor.snapshot
            guard snapshot.cause == nil, snapshot.recoveryCause != nil, control.reason != .cancelled else { break }
            recoveryAttempts += 1
            if recoveryAttempts > ft.maxRecoveryAttempts {
                await jobSupervisor.failRecovery(reason: "max_recovery_attempts (\(ft.maxRecoveryAttempts)) reached")
                break
            }
            switch pacer.failure(at: clock.now) {
            case .restart(_, let delay):
                if delay > .zero { await sleepUnlessInterrupted(for: delay) }
            case .giveUp(_, let reason):
                await jobSupervisor.failRecovery(reason: "the restart strategy gave up on recovering: \(reason)")
            }
            guard await jobSupervisor.snapshot.cause == nil, control.beginAttempt() else { break }
            let cause = await jobSupervisor.beginRestore()
            restored = latestValidCheckpoint()
            var event = JobEvent(kind: .recoveryStart, jobID: jobID, operatorName: cause?.operatorName, message: "recovery \(recoveryAttempts) of at most \(ft.maxRecoveryAttempts): restoring \(restored.map { "checkpoint \($0.id)" } ?? "the start (no checkpoint completed yet)")")
            event.attempt = recoveryAttempts
            events.emit(event)
            probe = RestoreProbe(pending: true, checkpoint: restored?.id)
        }

        var snapshot = await jobSupervisor.snapshot
        if snapshot.cause == nil, let unexpected = totals.unexpected {
            snapshot.cause = unexpected
            snapshot.history.append(unexpected)
        }
        var reason = control.reason ?? .finished
        if control.wasCancelled, snapshot.cause == nil { reason = .cancelled }
        if reason == .failed, snapshot.cause == nil {
            // An attempt stopped on a failure that no supervisor recorded (a restore that threw):
            // never report it as a success.
            let failure = totals.firstFailure ?? OperatorFailure(
                operatorName: "job", instance: 0, recordIndex: nil, record: nil,
                error: RuntimeInvariantError("the job stopped on a failure without a recorded cause"))
            snapshot.cause = failure
            snapshot.history.append(failure)
        }
        let status: JobResult.Status =
            snapshot.cause != nil ? .failed : reason == .cancelled ? .cancelled : control.anySourceEndedEarly ? .stopped : .completed
        let metrics = plan.nodes.enumerated().map { id, node in
            JobResult.OperatorMetrics(
                name: node.name, kind: node.blueprint.label, parallelism: node.parallelism,
                recordsIn: totals.counters[id].recordsIn, recordsOut: totals.counters[id].recordsOut,
                lateRecordsDropped: totals.counters[id].lateRecordsDropped)
        }
        var result = JobResult(
            jobID: jobID, jobName: jobName, status: status, operators: metrics, wallTime: ContinuousClock.now - started,
            restarts: snapshot.restarts, recoveries: snapshot.recoveries, deadLetters: snapshot.deadLetters,
            checkpoints: totals.checkpoints, failedCheckpoints: totals.failedCheckpoints)
        if let recorder {
            // The last sample counts every attempt's records, as the result does.
            result.metrics = await recorder.sample(final: totals.counters.map { ($0.recordsIn, $0.recordsOut) })
            await recorder.close()
        }
        let ownRemovals = applyRetention(status: status.rawValue)
        switch status {
        case .completed:
            events.emit(JobEvent(kind: .jobComplete, jobID: jobID, message: "job completed in \(JobResult.format(result.wallTime)); \(snapshot.restarts.count) restarts, \(snapshot.recoveries.count) recoveries, \(snapshot.deadLetters.count) dead letters, \(totals.checkpoints.count) checkpoints"))
        case .cancelled:
            events.emit(JobEvent(kind: .jobCancelled, jobID: jobID, message: "job cancelled after \(JobResult.format(result.wallTime))"))
        case .stopped:
            events.emit(JobEvent(kind: .jobStopped, jobID: jobID, message: "job stopped after \(JobResult.format(result.wallTime)) with checkpoint \(totals.checkpoints.last.map { String($0.id) } ?? "-"); submit it again with job_id \"\(jobID)\" to resume"))
        case .failed:
            var event = JobEvent(kind: .jobFailed, jobID: jobID, operatorName: snapshot.cause?.operatorName, message: "job failed: \(snapshot.cause.map { "\($0)" } ?? "unknown cause")")
            event.error = snapshot.cause.map { "\($0.error)" }
            events.emit(event)
        }
        writeSummary(status: status.rawValue, startDate: startDate, result: result, snapshot: snapshot, lastCheckpoint: totals.checkpoints.last?.id ?? restored?.id)
        await events.close()
        JobRetention.apply(ownRemovals, workDirectory: configuration.workDirectory, finished: jobID)
        if let cause = snapshot.cause {
            return .failed(result, cause, history: snapshot.history)
        }
        return .completed(result)
    }

    /// Applies `retention` as the job ends with `status` to the other jobs now (a `RETENTION`
    /// event lists what it removes, this job's folders included, before the job's last event);
    /// returns this job's own removals, which wait until its final summary is written and its
    /// files closed: a process that died before then must not leave a job that looks crashed
    /// and has lost its checkpoints.
    private func applyRetention(status: String) -> [JobRetention.Removal] {
        let retention = configuration.retention
        guard !retention.keepsEverything else { return [] }
        let work = configuration.workDirectory
        let planned = JobRetention.plan(workDirectory: work, retention: retention, finished: (jobID, status))
        let own = planned.filter { $0.jobID == jobID }
        let removed = JobRetention.apply(planned.filter { $0.jobID != jobID }, workDirectory: work, finished: jobID)
        if !removed.isEmpty || !own.isEmpty {
            let listed = (removed.map(\.description) + own.map { "\($0) once this job ends" }).joined(separator: "; ")
            events.emit(JobEvent(kind: .retention, jobID: jobID, message: "retention (policy \(retention.policy.rawValue)) removes \(removed.count + own.count) folders: \(listed)"))
        }
        return own
    }

    /// Waits a recovery's delay; a cancel or a stop ends the wait at once, rather than after a
    /// delay that may be minutes long: after a cancel the loop ends the job, after a stop the
    /// next attempt restores, finds its sources asked to stop and takes the final checkpoint.
    private func sleepUnlessInterrupted(for delay: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [clock] in try? await clock.sleep(for: delay) }
            group.addTask { [control] in await control.waitForCancelOrStop() }
            await group.next()
            group.cancelAll()
        }
    }

    /// The newest checkpoint whose files all verify; each one passed over is reported.
    func latestValidCheckpoint() -> RestoredCheckpoint? {
        let storage = self.storage
        for id in storage.list() {
            do {
                return try storage.load(id, jobID: jobID)
            } catch {
                var event = JobEvent(kind: .checkpointSkipped, jobID: jobID, message: "\(error); trying an older one")
                event.attempt = Int(id)
                events.emit(event)
            }
        }
        return nil
    }

    /// Compares the operators with state in `checkpoint` with the running graph's. A difference
    /// (an operator renamed, added or removed since the checkpoint) fails the job unless
    /// `allow_non_restored_state`, which restores what matches and says so in an event.
    private func checkOperators(of checkpoint: RestoredCheckpoint) -> OperatorFailure? {
        let graph = Set(plan.nodes.map(\.name))
        let saved = checkpoint.operators
        let withoutState = graph.subtracting(saved).sorted()
        let withoutOperator = saved.subtracting(graph).sorted()
        guard !withoutState.isEmpty || !withoutOperator.isEmpty else {
            if let saved = checkpoint.manifest.graphFingerprint, saved != plan.fingerprint {
                var event = JobEvent(kind: .warning, jobID: jobID, message: "checkpoint \(checkpoint.id) was taken by a pipeline with the same operator names but other kinds, inputs or element types; restoring it (state that no longer decodes fails the job)")
                event.attempt = Int(checkpoint.id)
                events.emit(event)
            }
            return nil
        }
        let error = CheckpointStateMismatchError(
            checkpointID: checkpoint.id, operatorsWithoutState: withoutState, stateWithoutOperator: withoutOperator)
        if configuration.faultTolerance.allowNonRestoredState {
            var event = JobEvent(kind: .warning, jobID: jobID, message: "\(error.summary); restoring what matches (allow_non_restored_state)")
            event.attempt = Int(checkpoint.id)
            events.emit(event)
            return nil
        }
        return OperatorFailure(operatorName: "checkpoint", instance: 0, recordIndex: nil, record: nil, error: error)
    }

    /// Ends the job before anything ran, with `failure` as its cause.
    private func failBeforeStart(_ failure: OperatorFailure, startDate: Date, started: ContinuousClock.Instant) async -> Outcome {
        var event = JobEvent(kind: .jobFailed, jobID: jobID, operatorName: failure.operatorName, message: "job failed: \(failure.error)")
        event.error = "\(failure.error)"
        events.emit(event)
        let result = JobResult(
            jobID: jobID, jobName: jobName, status: .failed,
            operators: plan.nodes.map { .init(name: $0.name, kind: $0.blueprint.label, parallelism: $0.parallelism, recordsIn: 0, recordsOut: 0) },
            wallTime: ContinuousClock.now - started, restarts: [], recoveries: [], deadLetters: [], checkpoints: [], failedCheckpoints: 0)
        let snapshot = JobSupervisor.Snapshot(history: [failure], cause: failure, recoveryCause: nil, deadLetters: [], restarts: [], recoveries: [])
        let ownRemovals = applyRetention(status: "failed")
        writeSummary(status: "failed", startDate: startDate, result: result, snapshot: snapshot, lastCheckpoint: storage.list().first)
        await events.close()
        JobRetention.apply(ownRemovals, workDirectory: configuration.workDirectory, finished: jobID)
        return .failed(result, failure, history: [failure])
    }

    /// Brings every sink's output to what checkpoint `id` committed (fresh output for `nil`).
    private func recoverSinks(to id: Int64?) async -> OperatorFailure? {
        for node in plan.nodes {
            guard let sink = node.blueprint as? any SinkBlueprint else { continue }
            do {
                try await sink.recover(lastCompleted: id, jobID: jobID, name: node.name, parallelism: node.parallelism)
            } catch {
                return OperatorFailure(operatorName: node.name, instance: 0, recordIndex: nil, record: nil, error: error)
            }
        }
        return nil
    }

    /// Runs every instance once, from `restored` if given, until they all end or the job stops.
    private func runAttempt(
        restored: RestoredCheckpoint?, probe: RestoreProbe, jobSupervisor: JobSupervisor, totals: inout Totals, recorder: MetricsRecorder?
    ) async {
        let ft = configuration.faultTolerance
        let box = PhysicalPlanBox(plan)
        var operatorSupervisors: [Int: OperatorSupervisor] = [:]
        for (id, node) in plan.nodes.enumerated() where node.blueprint.role != .source {
            operatorSupervisors[id] = OperatorSupervisor(
                name: node.name, policy: policies[id] ?? defaultPolicy, handler: policies[id] == nil ? faultHandler : nil,
                seed: ft.seed.map { $0 &+ UInt64(id) }, job: jobSupervisor, clock: clock)
        }
        let supervision = SupervisionContext(job: jobSupervisor, operators: operatorSupervisors, clock: clock, restoreProbe: probe, control: control)

        var coordinator: CheckpointCoordinator?
        if checkpointing {
            let keys = plan.vertices.flatMap { vertex in (0..<vertex.parallelism).map { "\(plan.nodes[vertex.nodes[0]].name)-\($0)" } }
            let sinks: [(any SinkBlueprint, String, Int)] = plan.nodes.compactMap { node in
                (node.blueprint as? any SinkBlueprint).map { ($0, node.name, node.parallelism) }
            }
            let jobID = self.jobID
            coordinator = CheckpointCoordinator(
                jobID: jobID, configuration: ft, storage: storage, clock: clock, events: events, expected: Set(keys),
                operators: plan.nodes.map(\.name), fingerprint: plan.fingerprint, lastCompleted: restored?.id,
                commitSinks: { epoch in
                    for (sink, name, parallelism) in sinks { try await sink.commit(upTo: epoch, jobID: jobID, name: name, parallelism: parallelism) }
                })
        }
        coordinatorSlot.set(coordinator)
        defer { coordinatorSlot.set(nil) }

        // One inbox per instance of every vertex that has inputs.
        let capacity = configuration.channelCapacity
        let inboxes: [[(any ClosableInbox)?]] = plan.vertices.map { vertex in
            let head = plan.nodes[vertex.nodes[0]].blueprint
            guard let consumer = head as? any InputBlueprint, vertex.laneCount > 0 else {
                return Array(repeating: nil, count: vertex.parallelism)
            }
            let name = plan.nodes[vertex.nodes[0]].name
            return (0..<vertex.parallelism).map { instance in
                let onFull = observer.map { observer in
                    { @Sendable (lane: Int) in observer(.channelFull(operator: name, instance: instance, lane: lane)) }
                }
                return consumer.makeInbox(lanes: vertex.laneCount, capacity: capacity, onFull: onFull)
            }
        }
        let allInboxes = inboxes.flatMap { $0.compactMap { $0 } }
        control.register(allInboxes)
        coordinator?.trigger.onChange { for inbox in allInboxes { inbox.wake() } }

        let health: [ReplicaHealth?] = plan.vertices.map { vertex in
            vertex.failsOver ? ReplicaHealth(inboxes: inboxes[vertex.id].compactMap { $0 }) : nil
        }

        let meters = recorder.map { _ in plan.vertices.map { vertex in (0..<vertex.parallelism).map { _ in InstanceMeter() } } }
        var instances: [OperatorInstance] = []
        for vertex in plan.vertices {
            let headName = plan.nodes[vertex.nodes[0]].name
            for instance in 0..<vertex.parallelism {
                let edges = vertex.outputs.map { output in
                    EdgeWiring(targets: inboxes[output.toVertex].compactMap { $0 }, edge: output, instance: instance, health: health[output.toVertex])
                }
                let hooks = coordinator.map { coordinator in
                    CheckpointHooks(coordinator: coordinator, trigger: coordinator.trigger, key: "\(headName)-\(instance)", restored: restored)
                }
                instances.append(
                    OperatorInstance(
                        .init(
                            jobID: jobID, plan: box, vertex: vertex.id, instance: instance, inbox: inboxes[vertex.id][instance],
                            edges: edges, batchSize: configuration.batchSize, linger: configuration.batchLinger,
                            deliversCommits: checkpointing, supervision: supervision, operatorTimeout: ft.operatorTimeout,
                            checkpoints: hooks, faultInjection: faultInjection, meter: meters?[vertex.id][instance],
                            replicaHealth: health[vertex.id])))
            }
        }

        let control = self.control
        // The coordinator's writer runs beside the instances and is awaited before the next
        // attempt (or the job's end) looks at the disk, so checkpoints already complete when
        // the attempt ends are still written. A task of its own, so that a cancel reaches it
        // alone: an async sink's commit waiting on a remote store must not keep a cancelled
        // job from ending. Its file writes are synchronous and finish; only such commits see
        // the cancellation, and a checkpoint whose commit did not go through is published by
        // `recover` when the job resumes.
        let writer = coordinator.map { coordinator in Task { await coordinator.runWriter() } }
        if let recorder, let meters {
            await recorder.begin(
                MetricsRecorder.Attempt(
                    meters: meters, inboxes: inboxes, base: totals.counters.map { ($0.recordsIn, $0.recordsOut) }, coordinator: coordinator,
                    checkpointsBefore: (totals.checkpoints.count, totals.failedCheckpoints)))
        }
        await runInstances(instances, coordinator: coordinator, totals: &totals, recorder: recorder, cancelWriter: { writer?.cancel() })
        await coordinator?.close(reason: control.reason == .failed ? "the job is recovering or failing" : "the job stopped")
        await writer?.value
        if let coordinator {
            totals.checkpoints += await coordinator.completed
            totals.failedCheckpoints += await coordinator.failedCount
        }
    }

    private func runInstances(
        _ instances: [OperatorInstance], coordinator: CheckpointCoordinator?, totals: inout Totals, recorder: MetricsRecorder?,
        cancelWriter: @escaping @Sendable () -> Void
    ) async {
        let control = self.control
        await withTaskCancellationHandler {
            await withTaskGroup(of: OperatorInstance.Report?.self) { group in
                group.addTask {
                    // A stop (a failure, a cancel) abandons the checkpoint collecting, so a
                    // final checkpoint waited on below cannot wait for instances that are gone.
                    let reason = await control.waitForStop()
                    if reason == .cancelled { cancelWriter() }
                    if reason != .finished { await coordinator?.close(reason: "the job stopped") }
                    return nil
                }
                if let coordinator {
                    group.addTask {
                        await coordinator.runPeriodically()
                        return nil
                    }
                }
                if let recorder {
                    group.addTask {
                        await recorder.runPeriodically()
                        return nil
                    }
                }
                for instance in instances {
                    group.addTask { await instance.run() }
                }
                var running = instances.count
                var failed = false
                while let next = await group.next() {
                    guard let report = next else {
                        // The watcher (the job is stopping) or the coordinator's loop ended.
                        if control.reason != nil { group.cancelAll() }
                        continue
                    }
                    running -= 1
                    for counter in report.counters {
                        totals.counters[counter.nodeID].recordsIn += counter.recordsIn
                        totals.counters[counter.nodeID].recordsOut += counter.recordsOut
                        totals.counters[counter.nodeID].lateRecordsDropped += counter.lateRecordsDropped
                    }
                    switch report.error {
                    case nil:
                        break
                    case let error? where (error is JobStoppedError || error is CancellationError) && control.reason != nil:
                        // Ended because the job is stopping: not a failure of its own.
                        break
                    case let failure as OperatorFailure:
                        failed = true
                        totals.firstFailure = totals.firstFailure ?? failure
                        control.stop(.failed)
                    case let error?:
                        failed = true
                        let name = plan.nodes[plan.vertices[report.vertex].nodes[0]].name
                        totals.unexpected = totals.unexpected ?? OperatorFailure(operatorName: name, instance: report.instance, recordIndex: nil, record: nil, error: error)
                        control.stop(.failed)
                    }
                    if running == 0 {
                        if !failed, control.reason == nil, let coordinator {
                            // Everything has drained: a last checkpoint commits the remaining
                            // output. A failed one (a sink's commit threw, the disk is full) is
                            // tried again; if it keeps failing the job fails rather than end
                            // with output unpublished.
                            var last: CheckpointOutcome?
                            // A cancel (or stop) meanwhile abandons it: the job then ends
                            // cancelled, its output uncommitted and resumable, not failed.
                            for _ in 0..<3 where last?.record == nil && control.reason == nil {
                                last = await coordinator.checkpointNow(manual: false)
                            }
                            if last?.record == nil, control.reason == nil {
                                let reason: String
                                switch last {
                                case .failed(let id, let why)?, .abandoned(let id, let why)?: reason = "checkpoint \(id): \(why)"
                                default: reason = "no outcome"
                                }
                                totals.unexpected = OperatorFailure(
                                    operatorName: "checkpoint", instance: 0, recordIndex: nil, record: nil,
                                    error: CheckpointError(message: "the final checkpoint failed 3 times, so the last output is not committed (last: \(reason))"))
                                control.stop(.failed)
                            }
                        }
                        control.stop(.finished)
                    }
                }
            }
        } onCancel: {
            control.stop(.cancelled)
        }
    }

    private func writeSummary(status: String, startDate: Date, result: JobResult?, snapshot: JobSupervisor.Snapshot?, lastCheckpoint: Int64?) {
        var resumeConfig = "\"job_id\": \"\(jobID)\""
        if checkpointing { resumeConfig += ", \"fault_tolerance\": [\"strategy\": \"checkpoint\", \"checkpoint_dir\": \"\(configuration.faultTolerance.checkpointDirectory)\", ...]" }
        let summary = JobSummary(
            name: jobName, jobID: jobID, status: status, startedAt: JobEvent.timestampStyle.format(startDate),
            endedAt: result.map { _ in JobEvent.timestampStyle.format(Date()) }, wallTimeSeconds: result?.wallTime.seconds,
            config: configuration.dictionaryRepresentation,
            operators: plan.nodes.enumerated().map { id, node in
                let metrics = result?.operators[id]
                return .init(
                    name: node.name, kind: node.blueprint.label, parallelism: node.parallelism, recordsIn: metrics?.recordsIn ?? 0,
                    recordsOut: metrics?.recordsOut ?? 0, placement: node.placement)
            },
            restarts: snapshot?.restarts.count ?? 0, recoveries: snapshot?.recoveries.count ?? 0,
            deadLetters: snapshot?.deadLetters.count ?? 0, failure: snapshot?.cause.map(JobSummary.Failure.init),
            failureHistory: snapshot?.history.map(JobSummary.Failure.init) ?? [], lastCheckpoint: lastCheckpoint.map(Int.init),
            resume: checkpointing
                ? "build the same pipeline with LocalEnvironment(\"\(jobName)\", config: [\(resumeConfig)]) and submit(): it resumes from checkpoint \(lastCheckpoint.map(String.init) ?? "none yet (starts over)")"
                : "LocalEnvironment(\"\(jobName)\", config: [\(resumeConfig)]) runs the job again under this id; resuming where it stopped needs fault_tolerance.strategy \"checkpoint\"")
        var written = summary
        if checkpointing {
            written.checkpointPath = URL(fileURLWithPath: configuration.faultTolerance.checkpointDirectory).appendingPathComponent(jobID).standardizedFileURL.path
        }
        events.writeSummary(written)
    }
}

/// The coordinator of the running attempt, for `triggerCheckpoint()`.
final class CoordinatorSlot: Sendable {
    private let current = Mutex<CheckpointCoordinator?>(nil)
    func set(_ coordinator: CheckpointCoordinator?) { current.withLock { $0 = coordinator } }
    var coordinator: CheckpointCoordinator? { current.withLock { $0 } }
}
