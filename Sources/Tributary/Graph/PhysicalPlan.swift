import Foundation

/// The graph compiled for running: operators grouped into vertices (fused chains), each with
/// its parallelism and its edges.
///
/// An operator joins its input's vertex ("fusion", Flink's chaining) when it has exactly one
/// input, that input feeds nothing else and is not a sink, the edge is not a `keyBy`, and both
/// have the same parallelism. Fused operators hand batches over by a function call; every
/// other edge is a bounded channel between actors. Sources fuse with what follows them (on two
/// cores, W1 runs at 2 × the throughput of a plan with the source in an actor of its own,
/// because the keyed stage then keeps one core to itself), unless a core would stay idle: see
/// ``chainSplits(_:graph:cores:)``.
struct PhysicalPlan: Sendable {
    enum EdgeKind: Sendable {
        case forward
        case roundRobin
        case hash(any Sendable)
    }

    struct InputEdge: Sendable {
        let fromVertex: Int
        let laneOffset: Int
        let laneCount: Int
        let kind: EdgeKind
    }

    struct OutputEdge: Sendable {
        let toVertex: Int
        let laneOffset: Int
        let kind: EdgeKind
    }

    struct Vertex: Sendable {
        let id: Int
        /// Node ids, head first.
        var nodes: [Int]
        let parallelism: Int
        /// Its head is supervised with failover and has siblings: upstream routes around a
        /// failed instance (see ``ReplicaHealth``).
        var failsOver = false
        var inputs: [InputEdge] = []
        var outputs: [OutputEdge] = []
        var laneCount: Int { inputs.reduce(0) { $0 + $1.laneCount } }
    }

    struct Node: Sendable {
        let blueprint: any NodeBlueprint
        let name: String
        let parallelism: Int
        let vertex: Int
        /// Why the operator runs where it does: fused into another's instance, or in its own
        /// and why (shown by `tributary job show`).
        let placement: String
    }

    let nodes: [Node]
    let vertices: [Vertex]

    /// A digest of the logical graph (names, kinds, inputs and element types of every
    /// operator), recorded in checkpoint manifests: equal for the same pipeline built again.
    var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for node in nodes {
            let text = [
                node.name, node.blueprint.label, node.blueprint.inputs.map(String.init).joined(separator: ","),
                node.blueprint.inputTypeName ?? "", node.blueprint.outputTypeName ?? "",
            ].joined(separator: "|") + ";"
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }

    /// Validates the graph and compiles it.
    /// - Throws: ``PipelineError`` for a pipeline that cannot run.
    /// - Parameters:
    ///   - cores: the processors the job may use; with more than the plan has instances, chains
    ///     that start at a source are split (see ``chainSplits(_:graph:cores:)``).
    ///   - handlerFailsOver: the job's custom ``FaultHandler`` may decide a failover, for every
    ///     operator without a policy of its own that can fail over.
    static func compile(_ graph: GraphState, cores: Int = AvailableCores.count, handlerFailsOver: Bool = false) throws(PipelineError) -> PhysicalPlan {
        if let problem = graph.problems.first { throw problem }
        let count = graph.nodes.count
        var consumers = Array(repeating: [Int](), count: count)
        for (id, node) in graph.nodes.enumerated() {
            for input in node.blueprint.inputs {
                guard input >= 0, input < id else {
                    throw PipelineError(code: .cycle, message: "operator '\(graph.name(of: id))' consumes a stream that is not upstream of it: the graph has a cycle")
                }
                consumers[input].append(id)
            }
        }
        guard graph.nodes.contains(where: { $0.blueprint.role == .sink }) else {
            throw PipelineError(code: .noSink, message: "the pipeline has no sink: end at least one stream with .sink(...) (for example CollectSink, FileSink or TerminalSink)")
        }
        var seenNames: [String: Int] = [:]
        for (id, node) in graph.nodes.enumerated() {
            let name = graph.name(of: id)
            if let other = seenNames[name] {
                throw PipelineError(code: .invalidName, message: "two operators are named '\(name)' (operators \(other) and \(id)); names must be unique within a job")
            }
            seenNames[name] = id
            if node.blueprint.role != .sink, consumers[id].isEmpty {
                // A stage that hands an operator's main output on is the operator to the user.
                let shown = graph.sideOutputs[id].map { "the main output of '\(graph.name(of: $0.producer))'" } ?? "the stream of '\(name)'"
                throw PipelineError(code: .unconsumedStream, message: "\(shown) is never consumed: end it with .sink(...) or remove it")
            }
            if node.blueprint.role == .source, node.parallelism != 1 {
                throw PipelineError(code: .invalidParallelism, message: "source '\(name)' has parallelism \(node.parallelism), but a source runs as one instance; set parallelism on the operators after it")
            }
        }

        // Operators whose instances take over each other's input: never fused into their input's
        // instance, fed round-robin (see `SupervisionPolicy.failover`).
        var failsOver = Array(repeating: false, count: count)
        for (id, node) in graph.nodes.enumerated() {
            let blueprint = node.blueprint
            let eligible = blueprint.servesAnyRecord && blueprint.inputs.count == 1 && blueprint.inputPartitioner == nil
            if let policy = node.policy, policy.failsOver, !eligible {
                let what = switch blueprint.role {
                case .source: "a source"
                case .sink: "a sink"
                case .union: "a union"
                case .transform:
                    if blueprint.inputPartitioner != nil {
                        "an operator after keyBy, whose records only the instance owning their key may take"
                    } else if blueprint.inputs.count != 1 {
                        "an operator with \(blueprint.inputs.count) inputs"
                    } else {
                        "'\(blueprint.label)', whose instances keep state of their own (a CheckpointableOperator's, a watermark generator's, a window's)"
                    }
                }
                throw PipelineError(
                    code: .invalidArgument,
                    message: "supervised(.failover) of '\(graph.name(of: id))': failover sends a failed instance's records to its siblings, so it needs a stateless operator with one input that any instance may serve (map, filter, compactMap, flatMap, mapAsync), and '\(graph.name(of: id))' is \(what); use .restart(...) for it")
            }
            let chosen = node.policy.map(\.failsOver) ?? (handlerFailsOver && eligible)
            failsOver[id] = chosen && node.parallelism > 1
        }

        // Fuse; then, with a core to spare, split source chains in two and fuse again.
        func fuse(splitBefore: Set<Int>) -> (vertexOf: [Int], vertices: [Vertex], placement: [String]) {
            var vertexOf = Array(repeating: -1, count: count)
            var vertices: [Vertex] = []
            var placement = Array(repeating: "", count: count)
            for (id, node) in graph.nodes.enumerated() {
                let blueprint = node.blueprint
                var reason: String?
                if blueprint.role != .source, blueprint.role != .union, blueprint.inputs.count == 1, blueprint.inputPartitioner == nil, !failsOver[id] {
                    let input = blueprint.inputs[0]
                    if consumers[input].count == 1, graph.nodes[input].blueprint.role != .sink,
                        graph.nodes[input].parallelism == node.parallelism
                    {
                        let head = graph.name(of: vertices[vertexOf[input]].nodes[0])
                        guard splitBefore.contains(id) else {
                            vertexOf[id] = vertexOf[input]
                            vertices[vertexOf[id]].nodes.append(id)
                            placement[id] = "fused into '\(head)': one input that feeds nothing else, same parallelism; a function call per batch, no channel"
                            continue
                        }
                        reason = "splits the chain of '\(head)' in two, so that a core the plan left idle (of \(cores)) runs its second half; the two halves exchange batches over a channel"
                    }
                }
                if failsOver[id] {
                    reason = "supervised with failover: its \(node.parallelism) instances get batches round-robin, so that a failed instance's share goes to its siblings until it is back"
                }
                placement[id] = "own instance: " + (reason ?? Self.reasonApart(id, graph: graph, consumers: consumers))
                vertexOf[id] = vertices.count
                vertices.append(Vertex(id: vertices.count, nodes: [id], parallelism: node.parallelism, failsOver: failsOver[id]))
            }
            return (vertexOf, vertices, placement)
        }
        var (vertexOf, vertices, placement) = fuse(splitBefore: [])
        let splits = Self.chainSplits(vertices, graph: graph, cores: cores)
        if !splits.isEmpty { (vertexOf, vertices, placement) = fuse(splitBefore: splits) }

        // Wire vertex edges: the head of a vertex consumes the tails of other vertices.
        for index in vertices.indices {
            let head = graph.nodes[vertices[index].nodes[0]].blueprint
            var laneOffset = 0
            for input in head.inputs {
                let from = vertexOf[input]
                let kind: EdgeKind
                if let partitioner = head.inputPartitioner {
                    kind = .hash(partitioner)
                } else if vertices[from].parallelism == vertices[index].parallelism, !vertices[index].failsOver {
                    kind = .forward
                } else {
                    kind = .roundRobin
                }
                let lanes: Int
                if case .forward = kind { lanes = 1 } else { lanes = vertices[from].parallelism }
                vertices[index].inputs.append(InputEdge(fromVertex: from, laneOffset: laneOffset, laneCount: lanes, kind: kind))
                vertices[from].outputs.append(OutputEdge(toVertex: index, laneOffset: laneOffset, kind: kind))
                laneOffset += lanes
            }
        }

        let nodes = graph.nodes.enumerated().map { id, node in
            Node(blueprint: node.blueprint, name: graph.name(of: id), parallelism: node.parallelism, vertex: vertexOf[id], placement: placement[id])
        }
        return PhysicalPlan(nodes: nodes, vertices: vertices)
    }

    /// Where to split chains so that a core the plan leaves idle does half of a chain's work:
    /// while the plan has fewer instances than `cores`, each chain of at least three operators
    /// that starts at a source is split before its middle operator (source and first half in
    /// one instance, the rest in another), or after its `withTimestamps` if that comes later.
    ///
    /// Measured (`tributary-bench --filter W0`, source → map → filter → sink): on two cores the
    /// split runs at 1.2 × the fused chain's throughput (164 against 139 M records/s); on one
    /// core it runs at 0.6 ×, paying the handoff without a second core, so nothing is split
    /// when no core is spare. A plan with a keyed stage already has two instances, so W1 and
    /// W2 are not split on two cores.
    static func chainSplits(_ vertices: [Vertex], graph: GraphState, cores: Int) -> Set<Int> {
        var spare = cores - vertices.reduce(0) { $0 + $1.parallelism }
        var splits: Set<Int> = []
        for vertex in vertices where spare > 0 {
            guard vertex.parallelism == 1, vertex.nodes.count >= 3, graph.nodes[vertex.nodes[0]].blueprint.role == .source else { continue }
            // Operators that must run where the source reads stay in the first half.
            let pinned = vertex.nodes.lastIndex { sourceInstanceLabels.contains(graph.nodes[$0].blueprint.label) } ?? 0
            let at = max(vertex.nodes.count / 2, pinned + 1)
            guard at < vertex.nodes.count else { continue }
            splits.insert(vertex.nodes[at])
            spare -= 1
        }
        return splits
    }

    /// Operators that work only in the instance whose loop reads the source: `withTimestamps`
    /// notices an idle input there (its idle timeout has no effect elsewhere).
    static let sourceInstanceLabels: Set<String> = ["timestamps"]

    /// Why operator `id` does not join its input's instance.
    private static func reasonApart(_ id: Int, graph: GraphState, consumers: [[Int]]) -> String {
        let node = graph.nodes[id]
        let blueprint = node.blueprint
        switch blueprint.role {
        case .source:
            return "a source, reading in a loop of its own; what follows it is fused into it"
        case .union:
            return "a union, merging \(blueprint.inputs.count) inputs through one inbox"
        default:
            break
        }
        if blueprint.inputs.count != 1 { return "\(blueprint.inputs.count) inputs, merged through one inbox" }
        let input = blueprint.inputs[0]
        if blueprint.inputPartitioner != nil {
            let routing = node.parallelism == 1
                ? "one instance, so batches are forwarded without hashing"
                : "each record goes to the instance that owns its key"
            // Measured: W1 on two cores runs 1.6 times as fast as on one with the keyed stage
            // in its own instance (tributary-bench, 'two cores ÷ one core').
            return "after keyBy (\(routing)); kept apart so the keyed state has a core of its own beside the stages before it"
        }
        if consumers[input].count > 1 { return "its input '\(graph.name(of: input))' also feeds \(consumers[input].count - 1) other operator(s)" }
        if graph.nodes[input].parallelism != node.parallelism {
            return "parallelism \(node.parallelism) differs from its input's \(graph.nodes[input].parallelism); batches are spread round-robin"
        }
        return "its input is a sink"
    }
}
