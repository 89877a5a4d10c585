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

    /// Transforms each record.
    @inlinable
    public func map<Output: Sendable>(_ transform: @escaping @Sendable (Element) throws -> Output) -> DataStream<Output> {
        let node = TransformNode<Element, Output>(label: "map", input: nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in results.append(try transform(records[index])) }
        }
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }

    /// Keeps the records for which `isIncluded` returns `true`.
    @inlinable
    public func filter(_ isIncluded: @escaping @Sendable (Element) throws -> Bool) -> DataStream<Element> {
        let node = TransformNode<Element, Element>(label: "filter", input: nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in
                if try isIncluded(records[index]) { results.append(records[index]) }
            }
        }
        return DataStream(environment: environment, nodeID: environment.addNode(node))
    }

    /// Replaces each record with the elements of the sequence `transform` returns (none, one or many).
    @inlinable
    public func flatMap<Results: Sequence>(
        _ transform: @escaping @Sendable (Element) throws -> Results
    ) -> DataStream<Results.Element> where Results.Element: Sendable {
        let node = TransformNode<Element, Results.Element>(label: "flatMap", input: nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in results.append(contentsOf: try transform(records[index])) }
        }
        return DataStream<Results.Element>(environment: environment, nodeID: environment.addNode(node))
    }
}
