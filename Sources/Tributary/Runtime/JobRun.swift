import Foundation

/// One execution of a compiled plan: creates the job folder, the supervisors, the inboxes and
/// the instances, runs every instance as a child task of one task group, and turns how they
/// ended into a ``JobResult``.
struct JobRun {
    enum Outcome {
        case completed(JobResult)
        case cancelled(JobResult)
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

    /// The policy of operators without `supervised(_:)`, from `fault_tolerance`.
    var defaultPolicy: SupervisionPolicy {
        configuration.faultTolerance.strategy == .none ? .stop : .restart(configuration.faultTolerance.restartStrategy)
    }

    func execute() async -> Outcome {
        let started = ContinuousClock.now
        let startDate = Date()
        let box = PhysicalPlanBox(plan)
        let batchSize = configuration.batchSize
        let capacity = configuration.channelCapacity
        let ft = configuration.faultTolerance

        let jobSupervisor = JobSupervisor(jobID: jobID, events: events, classifier: classifier, escalationTarget: ft.strategy)
        var operatorSupervisors: [Int: OperatorSupervisor] = [:]
        for (id, node) in plan.nodes.enumerated() where node.blueprint.role != .source {
            operatorSupervisors[id] = OperatorSupervisor(
                name: node.name, policy: policies[id] ?? defaultPolicy, handler: policies[id] == nil ? faultHandler : nil,
                seed: ft.seed.map { $0 &+ UInt64(id) }, job: jobSupervisor, clock: clock)
        }
        let supervision = SupervisionContext(job: jobSupervisor, operators: operatorSupervisors, clock: clock)

        events.emit(JobEvent(kind: .jobStart, jobID: jobID, message: "job '\(jobName)' started: \(plan.nodes.count) operators in \(plan.vertices.count) actors, fault tolerance \"\(ft.strategy)\""))
        writeSummary(status: "running", startDate: startDate, result: nil, snapshot: nil)

        // One inbox per instance of every vertex that has inputs.
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
        control.register(inboxes.flatMap { $0.compactMap { $0 } })

        var instances: [OperatorInstance] = []
        for vertex in plan.vertices {
            for instance in 0..<vertex.parallelism {
                let edges = vertex.outputs.map { output -> EdgeWiring in
                    let targets = inboxes[output.toVertex].compactMap { $0 }
                    switch output.kind {
                    case .forward:
                        return EdgeWiring(targets: targets, lane: output.laneOffset, route: .forward(instance))
                    case .roundRobin:
                        return EdgeWiring(targets: targets, lane: output.laneOffset + instance, route: .roundRobin(start: instance))
                    case .hash(let partitioner):
                        return EdgeWiring(targets: targets, lane: output.laneOffset + instance, route: .hash(partitioner))
                    }
                }
                instances.append(
                    OperatorInstance(
                        .init(
                            jobID: jobID, plan: box, vertex: vertex.id, instance: instance, inbox: inboxes[vertex.id][instance],
                            edges: edges, batchSize: batchSize, linger: configuration.batchLinger,
                            deliversCommits: false, supervision: supervision, operatorTimeout: ft.operatorTimeout)))
            }
        }

        var counters = Array(repeating: (recordsIn: 0, recordsOut: 0), count: plan.nodes.count)
        var unexpected: OperatorFailure?
        let control = self.control

        await withTaskCancellationHandler {
            await withTaskGroup(of: OperatorInstance.Report?.self) { group in
                group.addTask {
                    _ = await control.waitForStop()
                    return nil
                }
                for instance in instances {
                    group.addTask { await instance.run() }
                }
                var running = instances.count
                while let next = await group.next() {
                    guard let report = next else {
                        // The watcher: the job is stopping; cancel whatever still runs.
                        group.cancelAll()
                        continue
                    }
                    running -= 1
                    for counter in report.counters {
                        counters[counter.nodeID].recordsIn += counter.recordsIn
                        counters[counter.nodeID].recordsOut += counter.recordsOut
                    }
                    switch report.error {
                    case nil, is JobStoppedError, is CancellationError:
                        break
                    case is OperatorFailure:
                        control.stop(.failed)
                    case let error?:
                        let name = plan.nodes[plan.vertices[report.vertex].nodes[0]].name
                        unexpected = unexpected ?? OperatorFailure(operatorName: name, instance: report.instance, recordIndex: nil, record: nil, error: error)
                        control.stop(.failed)
                    }
                    if running == 0 { control.stop(.finished) }
                }
            }
        } onCancel: {
            control.stop(.cancelled)
        }

        var snapshot = await jobSupervisor.snapshot
        if snapshot.cause == nil, let unexpected {
            snapshot.cause = unexpected
            snapshot.history.append(unexpected)
        }
        let reason = control.reason ?? .finished
        let status: JobResult.Status = snapshot.cause != nil ? .failed : (reason == .cancelled ? .cancelled : .completed)
        let metrics = plan.nodes.enumerated().map { id, node in
            JobResult.OperatorMetrics(
                name: node.name, kind: node.blueprint.label, parallelism: node.parallelism,
                recordsIn: counters[id].recordsIn, recordsOut: counters[id].recordsOut)
        }
        let result = JobResult(
            jobID: jobID, jobName: jobName, status: status, operators: metrics, wallTime: ContinuousClock.now - started,
            restarts: snapshot.restarts, recoveries: snapshot.recoveries, deadLetters: snapshot.deadLetters)
        switch status {
        case .completed:
            events.emit(JobEvent(kind: .jobComplete, jobID: jobID, message: "job completed in \(JobResult.format(result.wallTime)); \(snapshot.restarts.count) restarts, \(snapshot.deadLetters.count) dead letters"))
        case .cancelled:
            events.emit(JobEvent(kind: .jobCancelled, jobID: jobID, message: "job cancelled after \(JobResult.format(result.wallTime))"))
        case .failed:
            var event = JobEvent(kind: .jobFailed, jobID: jobID, operatorName: snapshot.cause?.operatorName, message: "job failed: \(snapshot.cause.map { "\($0)" } ?? "unknown cause")")
            event.error = snapshot.cause.map { "\($0.error)" }
            events.emit(event)
        }
        writeSummary(status: status.rawValue, startDate: startDate, result: result, snapshot: snapshot)
        events.close()
        if let cause = snapshot.cause {
            return .failed(result, cause, history: snapshot.history)
        }
        return status == .cancelled ? .cancelled(result) : .completed(result)
    }

    private func writeSummary(status: String, startDate: Date, result: JobResult?, snapshot: JobSupervisor.Snapshot?) {
        let summary = JobSummary(
            name: jobName, jobID: jobID, status: status, startedAt: JobEvent.timestampStyle.format(startDate),
            endedAt: result.map { _ in JobEvent.timestampStyle.format(Date()) }, wallTimeSeconds: result?.wallTime.seconds,
            config: configuration.dictionaryRepresentation,
            operators: plan.nodes.enumerated().map { id, node in
                let metrics = result?.operators[id]
                return .init(name: node.name, kind: node.blueprint.label, parallelism: node.parallelism, recordsIn: metrics?.recordsIn ?? 0, recordsOut: metrics?.recordsOut ?? 0)
            },
            restarts: snapshot?.restarts.count ?? 0, recoveries: snapshot?.recoveries.count ?? 0,
            deadLetters: snapshot?.deadLetters.count ?? 0, failure: snapshot?.cause.map(JobSummary.Failure.init),
            failureHistory: snapshot?.history.map(JobSummary.Failure.init) ?? [], lastCheckpoint: nil,
            resume: "LocalEnvironment(\"\(jobName)\", config: [\"job_id\": \"\(jobID)\", ...]) — resuming from a checkpoint needs fault_tolerance.strategy \"checkpoint\"")
        events.writeSummary(summary)
    }
}
