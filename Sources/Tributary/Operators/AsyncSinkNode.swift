/// An ``AsyncSink`` operator: its step awaits the instance's writer for each batch, on the
/// instance's executor.
struct AsyncSinkNode<S: AsyncSink>: InputBlueprint {
    typealias Input = S.Element
    let inputs: [Int]
    let sink: S

    init(sink: S, input: Int) {
        self.sink = sink
        self.inputs = [input]
    }

    var role: NodeRole { .sink }
    var label: String { "sink" }
    var outputTypeName: String? { nil }

    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step {
        guard let typed = input as? BatchBuffer<S.Element> else { throw RuntimeInvariantError("sink buffer type") }
        let sinkContext = SinkContext(
            jobID: context.jobID, operatorName: context.operatorName, instance: context.instance,
            parallelism: context.parallelism, deliversCommits: context.deliversCommits)
        let sink = self.sink
        // Made by the step's start hook, before the first record; `nil` after a restart whose
        // `makeWriter` threw (the next batch makes one).
        // The buffer and the writer belong to the one instance actor that runs this step; the
        // async body and hooks run only on that actor (its `isolated` parameter, or nonsending).
        nonisolated(unsafe) let writer = WriterBox<S.Writer?>(nil)
        nonisolated(unsafe) let input = typed
        let body: Step.AsyncBody = { _, start in
            var records = input.take()
            if start > 0 { records.removeFirst(start) }
            let count = records.count
            do {
                if writer.value == nil { writer.value = try await sink.makeWriter(sinkContext) }
                try await writer.value?.write(records)
            } catch {
                // The batch stays in the buffer: the restarted writer writes it again.
                let first = records.first.map(describeRecord) ?? ""
                input.items = records
                return .failed(index: 0, recordsIn: 0, recordsOut: 0, error: error, record: first)
            }
            records.removeAll(keepingCapacity: true)
            input.items = records
            return .completed(recordsIn: count, recordsOut: 0)
        }
        let step = Step(
            nodeID: context.nodeID, name: context.operatorName, body: .async(body),
            start: { writer.value = try await sink.makeWriter(sinkContext) },
            finish: { try await writer.value?.close() },
            restart: {
                try? await writer.value?.close()
                writer.value = nil
                writer.value = try await sink.makeWriter(sinkContext)
            },
            snapshot: { epoch in
                if writer.value == nil { writer.value = try await sink.makeWriter(sinkContext) }
                try await writer.value?.preCommit(epoch: epoch)
                return nil
            })
        step.input = typedInputAccess(typed)
        return step
    }
}

extension AsyncSinkNode: SinkBlueprint {
    func commit(upTo epoch: Int64, jobID: String, name: String, parallelism: Int) async throws {
        try await sink.commit(upTo: epoch, context: SinkContext(jobID: jobID, operatorName: name, instance: 0, parallelism: parallelism, deliversCommits: true))
    }

    func recover(lastCompleted epoch: Int64?, jobID: String, name: String, parallelism: Int) async throws {
        try await sink.recover(lastCompleted: epoch, context: SinkContext(jobID: jobID, operatorName: name, instance: 0, parallelism: parallelism, deliversCommits: true))
    }
}
