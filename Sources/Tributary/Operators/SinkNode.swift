/// A sink operator: its step writes each batch through the instance's writer.
@usableFromInline
struct SinkNode<S: Sink>: InputBlueprint {
    @usableFromInline typealias Input = S.Element
    @usableFromInline let inputs: [Int]
    let sink: S

    @usableFromInline
    init(sink: S, input: Int) {
        self.sink = sink
        self.inputs = [input]
    }

    @usableFromInline var role: NodeRole { .sink }
    @usableFromInline var label: String { "sink" }
    @usableFromInline var outputTypeName: String? { nil }

    @usableFromInline
    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step {
        guard let input = input as? BatchBuffer<S.Element> else { throw RuntimeInvariantError("sink buffer type") }
        let sinkContext = SinkContext(
            jobID: context.jobID, operatorName: context.operatorName, instance: context.instance,
            parallelism: context.parallelism, deliversCommits: context.deliversCommits)
        let writer: WriterBox<S.Writer>
        do {
            writer = WriterBox(try sink.makeWriter(sinkContext))
        } catch {
            throw StartFailure(error: error)
        }
        let body: Step.SyncBody = { start in
            var records = input.take()
            if start > 0 { records.removeFirst(start) }
            let count = records.count
            do {
                try writer.value.write(records)
            } catch {
                let first = records.first.map(describeRecord) ?? ""
                input.items = records
                return .failed(index: 0, recordsIn: 0, recordsOut: 0, error: error, record: first)
            }
            records.removeAll(keepingCapacity: true)
            input.items = records
            return .completed(recordsIn: count, recordsOut: 0)
        }
        let sink = self.sink
        let step = Step(
            nodeID: context.nodeID, name: context.operatorName, body: .sync(body), finish: { try writer.value.close() },
            restart: {
                try? writer.value.close()
                writer.value = try sink.makeWriter(sinkContext)
            },
            snapshot: { epoch in
                try writer.value.preCommit(epoch: epoch)
                return nil
            })
        step.input = typedInputAccess(input)
        return step
    }
}

extension SinkNode: SinkBlueprint {
    func commit(upTo epoch: Int64, jobID: String, name: String, parallelism: Int) throws {
        try sink.commit(upTo: epoch, context: SinkContext(jobID: jobID, operatorName: name, instance: 0, parallelism: parallelism, deliversCommits: true))
    }

    func recover(lastCompleted epoch: Int64?, jobID: String, name: String, parallelism: Int) throws {
        try sink.recover(lastCompleted: epoch, context: SinkContext(jobID: jobID, operatorName: name, instance: 0, parallelism: parallelism, deliversCommits: true))
    }
}

/// The sink-level two-phase-commit calls, erased.
protocol SinkBlueprint: Sendable {
    func commit(upTo epoch: Int64, jobID: String, name: String, parallelism: Int) async throws
    func recover(lastCompleted epoch: Int64?, jobID: String, name: String, parallelism: Int) async throws
}
