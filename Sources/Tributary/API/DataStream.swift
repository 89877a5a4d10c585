/// A stream of records of one type: the output of a source or an operator.
///
/// Methods on a stream add operators to its environment's graph and return the new stream;
/// nothing runs until ``LocalEnvironment/submit()``. A stream may feed several operators or
/// sinks (fan-out): each receives every record.
///
/// Operator closures run on the operator's actor, one record at a time and in order per
/// instance. A closure that throws fails the operator on that record; what happens next is the
/// job's fault-tolerance policy.
public struct DataStream<Element: Sendable>: Sendable {
    @usableFromInline let environment: LocalEnvironment
    @usableFromInline let nodeID: Int

    @usableFromInline
    init(environment: LocalEnvironment, nodeID: Int) {
        self.environment = environment
        self.nodeID = nodeID
    }

    /// The operator's name: the one given with ``named(_:)``, or a stable default such as `map-2`.
    public var name: String { environment.nodeName(nodeID) }
}
