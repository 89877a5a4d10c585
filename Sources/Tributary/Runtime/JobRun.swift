import Foundation

/// One execution of a compiled plan: creates the inboxes and instances, runs every instance as
/// a child task of one task group, and turns how they ended into a ``JobResult``.
struct JobRun {
    enum Outcome {
        case completed(JobResult)
        case cancelled(JobResult)
        case failed(JobResult, OperatorFailure, history: [OperatorFailure])
    }

    let jobID: String
    let jobName: String
    let plan: PhysicalPlan
    let configuration: EnvironmentConfiguration
    let control: JobControl
    /// Receives the runtime's internal events (tests use it to observe backpressure).
    let observer: (@Sendable (RuntimeEvent) -> Void)?

    func execute() async -> Outcome {
        let started = ContinuousClock.now
        let box = PhysicalPlanBox(plan)
        let batchSize = configuration.batchSize
        let capacity = configuration.channelCapacity

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
                            deliversCommits: false)))
            }
        }

        var counters = Array(repeating: (recordsIn: 0, recordsOut: 0), count: plan.nodes.count)
        var failures: [OperatorFailure] = []
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
                    case let failure as OperatorFailure:
                        failures.append(failure)
                        control.stop(.failed)
                    case let error?:
                        let name = plan.nodes[plan.vertices[report.vertex].nodes[0]].name
                        failures.append(OperatorFailure(operatorName: name, instance: report.instance, recordIndex: nil, record: nil, error: error))
                        control.stop(.failed)
                    }
                    if running == 0 { control.stop(.finished) }
                }
            }
        } onCancel: {
            control.stop(.cancelled)
        }

        let reason = control.reason ?? .finished
        let status: JobResult.Status = failures.isEmpty ? (reason == .cancelled ? .cancelled : .completed) : .failed
        let metrics = plan.nodes.enumerated().map { id, node in
            JobResult.OperatorMetrics(
                name: node.name, kind: node.blueprint.label, parallelism: node.parallelism,
                recordsIn: counters[id].recordsIn, recordsOut: counters[id].recordsOut)
        }
        let result = JobResult(
            jobID: jobID, jobName: jobName, status: status, operators: metrics, wallTime: ContinuousClock.now - started)
        if let cause = failures.first {
            return .failed(result, cause, history: failures)
        }
        return status == .cancelled ? .cancelled(result) : .completed(result)
    }
}
