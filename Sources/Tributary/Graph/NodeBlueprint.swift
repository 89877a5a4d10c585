/// What a logical operator is, and how the runtime builds its pieces for one instance.
///
/// The builder records one blueprint per operator. Blueprints are generic over the element
/// types, so the runtime (which is not) asks them for typed buffers, inboxes, steps and
/// emitters and hands those back to them erased; each cast happens once, when an instance
/// starts, never per record.
@usableFromInline
protocol NodeBlueprint: Sendable {
    var role: NodeRole { get }
    /// The operator kind, used for default names (`map-2`).
    var label: String { get }
    /// The node ids of the inputs, in order.
    var inputs: [Int] { get }
    /// Set when the input arrives through `keyBy`: records are hash-partitioned by key.
    var inputPartitioner: (any Sendable)? { get }
    /// The element types, for error messages.
    var inputTypeName: String? { get }
    var outputTypeName: String? { get }
}

@usableFromInline
enum NodeRole: Sendable, Equatable {
    case source
    case transform
    case union
    case sink
}

/// The output side of a blueprint (sources, transforms, unions).
@usableFromInline
protocol OutputBlueprint: NodeBlueprint {
    associatedtype Output: Sendable
    func makeOutputBuffer(capacity: Int) -> AnyObject
    func makeEmitter(buffer: AnyObject, edges: [EdgeWiring], batchCapacity: Int) throws -> any ChainEmitter
}

/// The input side of a blueprint (transforms, unions, sinks).
@usableFromInline
protocol InputBlueprint: NodeBlueprint {
    associatedtype Input: Sendable
    func makeInputBuffer(capacity: Int) -> AnyObject
    func makeInbox(lanes: Int, capacity: Int, onFull: (@Sendable (Int) -> Void)?) -> any ClosableInbox
    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step
    func runInbox(_ inbox: any ClosableInbox, chain: Chain, isolation: isolated (any Actor)?) async throws
}

/// A source's blueprint: runs the read loop of one source instance.
@usableFromInline
protocol SourceBlueprint: OutputBlueprint {
    var isReplayable: Bool { get }
    func runSource(chain: Chain, settings: SourceSettings, isolation: isolated (any Actor)?) async throws
}

extension NodeBlueprint {
    @usableFromInline var inputPartitioner: (any Sendable)? { nil }
}

extension OutputBlueprint {
    @usableFromInline var outputTypeName: String? { String(describing: Output.self) }

    @usableFromInline
    func makeOutputBuffer(capacity: Int) -> AnyObject { BatchBuffer<Output>(capacity: capacity) }

    @usableFromInline
    func makeEmitter(buffer: AnyObject, edges: [EdgeWiring], batchCapacity: Int) throws -> any ChainEmitter {
        guard let buffer = buffer as? BatchBuffer<Output> else { throw RuntimeInvariantError("emitter buffer type") }
        let typed: [Emitter<Output>.Edge] = try edges.map { wiring in
            let targets = try wiring.targets.map { inbox in
                guard let typed = inbox as? Inbox<Output> else { throw RuntimeInvariantError("edge inbox type") }
                return typed
            }
            let route: Emitter<Output>.Route
            switch wiring.edge.kind {
            case .forward: route = .forward(wiring.instance)
            case .roundRobin: route = .roundRobin(next: wiring.instance % targets.count)
            case .hash(let partitioner):
                guard let typed = partitioner as? HashPartitioner<Output> else {
                    throw RuntimeInvariantError("key partitioner type")
                }
                route = targets.count == 1 ? .forward(0) : .hash(typed)
            }
            return Emitter<Output>.Edge(targets: targets, lane: wiring.lane, route: route)
        }
        return Emitter(buffer: buffer, edges: typed, batchCapacity: batchCapacity)
    }
}

extension InputBlueprint {
    @usableFromInline var inputTypeName: String? { String(describing: Input.self) }

    @usableFromInline
    func makeInputBuffer(capacity: Int) -> AnyObject { BatchBuffer<Input>(capacity: capacity) }

    @usableFromInline
    func makeInbox(lanes: Int, capacity: Int, onFull: (@Sendable (Int) -> Void)?) -> any ClosableInbox {
        Inbox<Input>(lanes: lanes, capacity: capacity, onFull: onFull)
    }

    /// The run loop of a vertex fed by other vertices: moves each batch into the head buffer and
    /// runs the chain, until every input lane has sent end-of-stream.
    @usableFromInline
    func runInbox(_ inbox: any ClosableInbox, chain: Chain, isolation: isolated (any Actor)?) async throws {
        guard let inbox = inbox as? Inbox<Input>, let head = chain.head as? BatchBuffer<Input> else {
            throw RuntimeInvariantError("inbox type")
        }
        var openLanes = inbox.laneCount
        var handler = BarrierHandler(laneCount: inbox.laneCount)
        var alignmentStarted: ContinuousClock.Instant?
        func apply(_ actions: [BarrierHandler.Action]) async throws {
            for action in actions {
                switch action {
                case .block(let lane):
                    inbox.block(lane: lane)
                    alignmentStarted = alignmentStarted ?? .now
                case .unblockAll:
                    inbox.unblockAll()
                case .snapshot(let id):
                    let alignment = alignmentStarted.map { ContinuousClock.now - $0 } ?? .zero
                    alignmentStarted = nil
                    try await chain.barrier(id, sourcePosition: nil, alignment: alignment)
                case .aborted:
                    alignmentStarted = nil
                }
            }
        }
        while openLanes > 0 {
            let (lane, message) = try await inbox.receive()
            // A checkpoint abandoned meanwhile: stop aligning it, and never start aligning a
            // barrier of it that arrives later.
            if let abandoned = chain.checkpoints?.trigger.abandoned, abandoned > handler.lastHandled {
                try await apply(handler.abort(upTo: abandoned))
            }
            if lane == inbox.controlLane { continue }
            switch message {
            case .batch(let records):
                head.items = records
                try await chain.process()
            case .barrier(let id):
                try await apply(handler.barrier(id, lane: lane))
            case .endOfStream:
                openLanes -= 1
                try await apply(handler.endOfInput(lane: lane))
            }
        }
    }
}

/// How one producing instance reaches the instances of one consumer (erased element type):
/// the plan's edge, seen from producing instance `instance`.
@usableFromInline
struct EdgeWiring: Sendable {
    let targets: [any ClosableInbox]
    let edge: PhysicalPlan.OutputEdge
    let instance: Int

    /// The consumer's input lane this instance sends on: one lane per producing instance,
    /// except on a forward edge, where each consumer has exactly one producer.
    var lane: Int {
        if case .forward = edge.kind { return edge.laneOffset }
        return edge.laneOffset + instance
    }
}

/// An internal invariant of the runtime did not hold: a bug in Tributary, reported as an error
/// rather than a crash so that the job fails cleanly.
@usableFromInline
struct RuntimeInvariantError: Error, CustomStringConvertible {
    let what: String
    @usableFromInline init(_ what: String) { self.what = what }
    @usableFromInline var description: String { "internal error in Tributary's runtime (\(what)); please report it" }
}
