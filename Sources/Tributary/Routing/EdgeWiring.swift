/// How one producing instance reaches the instances of one consumer (erased element type):
/// the plan's edge, seen from producing instance `instance`.
@usableFromInline
struct EdgeWiring: Sendable {
    let targets: [any ClosableInbox]
    let edge: PhysicalPlan.OutputEdge
    let instance: Int
    /// The consumer's instances that are down, when it fails over.
    var health: ReplicaHealth? = nil

    /// The consumer's input lane this instance sends on: one lane per producing instance,
    /// except on a forward edge, where each consumer has exactly one producer.
    var lane: Int {
        if case .forward = edge.kind { return edge.laneOffset }
        return edge.laneOffset + instance
    }
}
