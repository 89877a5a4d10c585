// map, filter, compactMap and flatMap: one call of the user's closure per record, in the batch frame.

extension DataStream {
    /// Transforms each record.
    @inlinable
    public func map<Output: Sendable>(_ transform: @escaping @Sendable (Element) throws -> Output) -> DataStream<Output> {
        var node = TransformNode<Element, Output>(label: "map", input: nodeID) { input, output, _ in
            makeAtMostOneBody(input, output) { record, slot in
                slot.initialize(to: try transform(record))
                return true
            }
        }
        node.servesAnyRecord = true
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }

    /// Keeps the records for which `isIncluded` returns `true`.
    @inlinable
    public func filter(_ isIncluded: @escaping @Sendable (Element) throws -> Bool) -> DataStream<Element> {
        var node = TransformNode<Element, Element>(label: "filter", input: nodeID) { input, output, _ in
            makeAtMostOneBody(input, output) { record, slot in
                guard try isIncluded(record) else { return false }
                slot.initialize(to: record)
                return true
            }
        }
        node.servesAnyRecord = true
        return DataStream(environment: environment, nodeID: environment.addNode(node))
    }

    /// Transforms each record and keeps the results that are not `nil`.
    @inlinable
    public func compactMap<Output: Sendable>(_ transform: @escaping @Sendable (Element) throws -> Output?) -> DataStream<Output> {
        var node = TransformNode<Element, Output>(label: "compactMap", input: nodeID) { input, output, _ in
            makeAtMostOneBody(input, output) { record, slot in
                guard let result = try transform(record) else { return false }
                slot.initialize(to: result)
                return true
            }
        }
        node.servesAnyRecord = true
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }

    /// Replaces each record with the elements of the sequence `transform` returns (none, one or many).
    @inlinable
    public func flatMap<Results: Sequence>(
        _ transform: @escaping @Sendable (Element) throws -> Results
    ) -> DataStream<Results.Element> where Results.Element: Sendable {
        var node = TransformNode<Element, Results.Element>(label: "flatMap", input: nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in results.append(contentsOf: try transform(records[index])) }
        }
        node.servesAnyRecord = true
        return DataStream<Results.Element>(environment: environment, nodeID: environment.addNode(node))
    }
}
