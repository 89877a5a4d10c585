extension OutputBlueprint {
    /// The emitter of a chain whose last operator is this one: the plan's edges, typed once.
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
            return Emitter<Output>.Edge(targets: targets, lane: wiring.lane, route: route, health: wiring.health)
        }
        return Emitter(buffer: buffer, edges: typed, batchCapacity: batchCapacity)
    }
}
