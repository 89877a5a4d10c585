/// Sends one chain's output to the instances of the vertices that consume it.
///
/// Each outgoing edge routes a batch one of three ways: `forward` to the instance with the same
/// index (equal parallelism), `roundRobin` whole batches across instances (skipping instances
/// that are down, for an operator supervised with failover), or `hash` each record
/// to the instance that owns its key (after `keyBy`). Several edges (fan-out) all receive the
/// same batch; arrays are copy-on-write, so that costs no copy.
final class Emitter<Element: Sendable>: ChainEmitter {
    enum Route {
        case forward(Int)
        case roundRobin(next: Int)
        case hash(HashPartitioner<Element>)
    }

    struct Edge {
        let targets: [Inbox<Element>]
        let lane: Int
        var route: Route
        /// Set when the consumer fails over: round-robin skips its instances that are down.
        var health: ReplicaHealth? = nil
    }

    private let buffer: BatchBuffer<Element>
    private var edges: [Edge]
    private let batchCapacity: Int

    init(buffer: BatchBuffer<Element>, edges: [Edge], batchCapacity: Int) {
        self.buffer = buffer
        self.edges = edges
        self.batchCapacity = batchCapacity
    }

    nonisolated(nonsending) func emit() async throws {
        guard !buffer.items.isEmpty else { return }
        let batch = buffer.take()
        buffer.items.reserveCapacity(batchCapacity)
        for index in edges.indices {
            let edge = edges[index]
            switch edge.route {
            case .forward(let target):
                try await edge.targets[target].send(.batch(batch), lane: edge.lane)
            case .roundRobin(let next):
                // Around a down instance, the rotation goes on after the one that got the batch,
                // so the siblings share the down one's part evenly.
                var target = edge.health?.target(preferring: next) ?? next
                while true {
                    do {
                        try await edge.targets[target].send(.batch(batch), lane: edge.lane, reroute: edge.health.map { ($0, target) })
                        break
                    } catch is ReroutedBatch {
                        // The instance is down and a sibling is up: the batch goes there.
                        target = edge.health?.target(preferring: (target + 1) % edge.targets.count) ?? target
                    }
                }
                edges[index].route = .roundRobin(next: (target + 1) % edge.targets.count)
            case .hash(let partitioner):
                let parts = partitioner.split(batch, edge.targets.count)
                for (target, part) in parts.enumerated() where !part.records.isEmpty {
                    try await edge.targets[target].send(.keyedBatch(part.records, hashes: part.hashes), lane: edge.lane)
                }
            }
        }
    }

    nonisolated(nonsending) func barrier(_ id: Int64) async throws {
        try await broadcast(.barrier(id))
    }

    nonisolated(nonsending) func watermark(_ watermark: Duration) async throws {
        try await broadcast(.watermark(watermark))
    }

    nonisolated(nonsending) func idle() async throws {
        try await broadcast(.idle)
    }

    nonisolated(nonsending) func finish() async throws {
        try await broadcast(.endOfStream)
    }

    /// Sends the pending output, then `message` to every consumer instance this instance feeds:
    /// all of them over a round-robin or hash edge, where each has a lane for every upstream
    /// instance; over a forward edge only the one it forwards to, the only instance whose lane
    /// it feeds (sending to the others put two producers on one lane).
    private nonisolated(nonsending) func broadcast(_ message: Message<Element>) async throws {
        try await emit()
        for edge in edges {
            if case .forward(let target) = edge.route {
                try await edge.targets[target].send(message, lane: edge.lane)
                continue
            }
            for target in edge.targets {
                try await target.send(message, lane: edge.lane)
            }
        }
    }
}
