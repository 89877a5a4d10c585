/// The sink behind ``DataStream/values``: each instance's step writes its batch into the
/// shared ``ValuesChannel`` and waits there while the app is behind (the step's async body is
/// what carries the backpressure to the job).
struct ValuesNode<Element: Sendable>: InputBlueprint {
    typealias Input = Element
    let inputs: [Int]
    let channel: ValuesChannel<Element>

    var role: NodeRole { .sink }
    var label: String { "values" }
    var outputTypeName: String? { nil }

    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step {
        guard let input = input as? BatchBuffer<Element> else { throw RuntimeInvariantError("values buffer type") }
        let channel = self.channel
        let instance = context.instance
        let transactional = context.deliversCommits
        // The buffer belongs to the one instance actor that runs this step.
        nonisolated(unsafe) let buffer = input
        let body: Step.AsyncBody = { _, start in
            var records = buffer.take()
            if start > 0 { records.removeFirst(start) }
            let count = records.count
            // Only a stopping job (its tasks cancelled) ends the wait early, and the records were
            // handed over or staged before it: nothing to retry.
            try? await channel.write(records, instance: instance, transactional: transactional)
            records.removeAll(keepingCapacity: true)
            buffer.items = records
            return .completed(recordsIn: count, recordsOut: 0)
        }
        let step = Step(
            nodeID: context.nodeID, name: context.operatorName, body: .async(body),
            snapshot: { epoch in
                channel.seal(epoch: epoch, instance: instance)
                return nil
            })
        step.input = typedInputAccess(input)
        return step
    }
}

extension ValuesNode: SinkBlueprint {
    func commit(upTo epoch: Int64, jobID: String, name: String, parallelism: Int) throws {
        channel.commit(upTo: epoch)
    }

    func recover(lastCompleted epoch: Int64?, jobID: String, name: String, parallelism: Int) throws {
        channel.recover(lastCompleted: epoch)
    }
}
