extension DataStream {
    /// The side output `tag` of the operator that produced this stream: the records it sent
    /// there (for example the late records of ``WindowedStream/sideOutputLateData(_:)``), in the
    /// order it emitted them, with the same exactly-once guarantees as its main output.
    ///
    /// A tag the operator does not have, or has with another value type, makes `submit()` throw
    /// a ``PipelineError`` that names it.
    public func sideOutput<Value: Sendable>(_ tag: OutputTag<Value>) -> DataStream<Value> {
        guard let producer = environment.sideOutputProducer(of: nodeID, tag: tag.name, type: Value.self) else {
            environment.recordProblem(
                PipelineError(
                    code: .invalidArgument,
                    message: "sideOutput(\"\(tag.name)\") of '\(name)': that operator has no side output of that name holding \(Value.self)"))
            return compactMap { _ in nil }
        }
        let name = tag.name
        let node = TransformNode<SideOutputItem<Element>, Value>(label: "sideOutput", input: producer) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in
                if case .side(let tag, let value) = records[index], tag == name, let value = value as? Value { results.append(value) }
            }
        }
        let id = environment.addNode(node)
        environment.addSideOutputReader(id, of: nodeID)
        return DataStream<Value>(environment: environment, nodeID: id)
    }
}

extension DataStream {
    /// The main output of an operator that emits ``SideOutputItem``s, as a stream of `Main`;
    /// `tags` (name → value type) are what ``sideOutput(_:)`` may read. Naming, parallelism
    /// and supervision set on the returned stream apply to the operator.
    @usableFromInline
    func mainOutput<Main: Sendable>(tags: [String: Any.Type]) -> DataStream<Main> where Element == SideOutputItem<Main> {
        let node = TransformNode<SideOutputItem<Main>, Main>(label: "mainOutput", input: nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in
                if case .main(let value) = records[index] { results.append(value) }
            }
        }
        let id = environment.addNode(node)
        environment.registerSideOutputs(producer: nodeID, main: id, tags: tags)
        return DataStream<Main>(environment: environment, nodeID: id)
    }
}
