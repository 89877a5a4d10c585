/// One instance of a physical vertex: an actor that owns its chain (steps, buffers, keyed
/// state, emitter) and runs it from its source or inbox until the input ends.
///
/// Everything the chain holds is created inside ``run()`` and never leaves the actor; the only
/// things shared with other instances are the inboxes, which are thread-safe.
actor OperatorInstance {
    struct Report: Sendable {
        let vertex: Int
        let instance: Int
        let counters: [Counter]
        /// Why the instance stopped early, if it did.
        let error: (any Error)?
    }

    struct Counter: Sendable {
        let nodeID: Int
        let recordsIn: Int
        let recordsOut: Int
        let lateRecordsDropped: Int
    }

    struct Setup: Sendable {
        let jobID: String
        let plan: PhysicalPlanBox
        let vertex: Int
        let instance: Int
        let inbox: (any ClosableInbox)?
        let edges: [EdgeWiring]
        let batchSize: Int
        let linger: Duration
        let deliversCommits: Bool
        let supervision: SupervisionContext
        let operatorTimeout: Duration?
        let checkpoints: CheckpointHooks?
        let faultInjection: FaultInjectionState?
        /// Where the loop publishes its counts for metrics (`nil`: no metrics).
        var meter: InstanceMeter? = nil
        /// The vertex's instances that are down, when its head fails over.
        var replicaHealth: ReplicaHealth? = nil
    }

    private let setup: Setup

    init(_ setup: Setup) {
        self.setup = setup
    }

    func run() async -> Report {
        var chain: Chain?
        do {
            let built = try await buildChain()
            chain = built
            let plan = setup.plan.plan
            let head = plan.nodes[plan.vertices[setup.vertex].nodes[0]].blueprint
            if let source = head as? any SourceBlueprint {
                try await source.runSource(
                    chain: built, settings: SourceSettings(batchSize: setup.batchSize, linger: setup.linger), isolation: self)
            } else if let consumer = head as? any InputBlueprint, let inbox = setup.inbox {
                try await consumer.runInbox(inbox, chain: built, isolation: self)
            } else {
                throw RuntimeInvariantError("vertex head has neither a source nor an inbox")
            }
            try await built.finish()
            return report(chain, error: nil)
        } catch {
            return report(chain, error: error)
        }
    }

    private func report(_ chain: Chain?, error: (any Error)?) -> Report {
        let counters = (chain?.counters ?? []).map {
            Counter(nodeID: $0.nodeID, recordsIn: $0.recordsIn, recordsOut: $0.recordsOut, lateRecordsDropped: $0.lateRecordsDropped)
        }
        return Report(vertex: setup.vertex, instance: setup.instance, counters: counters, error: error)
    }

    /// Builds the steps and buffers of this instance: each operator's output buffer is the next
    /// one's input buffer.
    private func buildChain() async throws -> Chain {
        let plan = setup.plan.plan
        let vertex = plan.vertices[setup.vertex]
        let headNode = plan.nodes[vertex.nodes[0]]
        let head: AnyObject
        var steps: [Step] = []
        var current: AnyObject
        var sourceInfo: (id: Int, name: String)?
        var stepNodes = vertex.nodes[...]
        if let source = headNode.blueprint as? any SourceBlueprint {
            head = source.makeOutputBuffer(capacity: setup.batchSize)
            current = head
            sourceInfo = (vertex.nodes[0], headNode.name)
            stepNodes = stepNodes.dropFirst()
        } else if let consumer = headNode.blueprint as? any InputBlueprint {
            head = consumer.makeInputBuffer(capacity: setup.batchSize)
            current = head
        } else {
            throw RuntimeInvariantError("vertex head kind")
        }
        var tail: (any OutputBlueprint)? = headNode.blueprint as? any OutputBlueprint
        for nodeID in stepNodes {
            let node = plan.nodes[nodeID]
            guard let consumer = node.blueprint as? any InputBlueprint else { throw RuntimeInvariantError("fused a source") }
            let producer = node.blueprint as? any OutputBlueprint
            let output = producer?.makeOutputBuffer(capacity: setup.batchSize)
            var context = StepContext(
                jobID: setup.jobID, nodeID: nodeID, operatorName: node.name, instance: setup.instance,
                parallelism: vertex.parallelism, batchSize: setup.batchSize, deliversCommits: setup.deliversCommits,
                operatorTimeout: setup.operatorTimeout, now: { [clock = setup.supervision.clock] in clock.now },
                processingTime: { [clock = setup.supervision.clock] in clock.processingTime },
                emit: { [events = setup.supervision.job.events] in events.emit($0) })
            context.sleep = { [clock = setup.supervision.clock] in try await clock.sleep(for: $0) }
            do {
                let step = try consumer.makeStep(input: current, output: output, context: context)
                if let start = step.start {
                    do {
                        try await start()
                    } catch {
                        if isJobCancellation(error) { throw error }
                        throw StartFailure(error: error)
                    }
                }
                if let injection = setup.faultInjection, injection.rules.contains(where: { $0.operatorName == node.name }) {
                    step.injector = StepInjector(state: injection, operatorName: node.name, instance: setup.instance, clock: setup.supervision.clock)
                }
                steps.append(step)
            } catch let failure as StartFailure {
                let operatorFailure = OperatorFailure(operatorName: node.name, instance: setup.instance, recordIndex: nil, record: nil, error: failure.error)
                _ = await setup.supervision.job.record(operatorFailure)
                await setup.supervision.job.escalate(operatorFailure, reason: "'\(node.name)' could not start")
                throw operatorFailure
            }
            tail = producer
            if let output { current = output }
        }
        var emitter: (any ChainEmitter)?
        if !vertex.outputs.isEmpty {
            guard let tail else { throw RuntimeInvariantError("a sink has consumers") }
            emitter = try tail.makeEmitter(buffer: current, edges: setup.edges, batchCapacity: setup.batchSize)
        }
        let chain = Chain(
            head: head, steps: steps, emitter: emitter, instance: setup.instance, source: sourceInfo, supervision: setup.supervision,
            checkpoints: setup.checkpoints, meter: setup.meter, replicaHealth: setup.replicaHealth)
        try chain.restore(parallelism: vertex.parallelism)
        if sourceInfo == nil, setup.instance == 0,
            let idle = steps.first(where: { $0.watermarkGenerator?.strategy.idleTimeout != nil })
        {
            setup.supervision.job.events.emit(
                JobEvent(
                    kind: .warning, jobID: setup.jobID, operatorName: idle.name,
                    message: "'\(idle.name)' has an idleTimeout but does not run in its source's instance, where idleness is noticed: the timeout has no effect (put withTimestamps right after the source)"))
        }
        return chain
    }
}

/// Shares the compiled plan (read-only) between instances.
final class PhysicalPlanBox: Sendable {
    let plan: PhysicalPlan
    init(_ plan: PhysicalPlan) { self.plan = plan }
}
