/// A one-input operator (`map`, `filter`, `flatMap`, `mapAsync`, `reduce`, `mapWithState`, …).
/// `makeBody` is built by the inlinable builder method, so the body's record loop is specialised.
@usableFromInline
struct TransformNode<Input: Sendable, Output: Sendable>: InputBlueprint, OutputBlueprint {
    @usableFromInline
    typealias BodyFactory = @Sendable (BatchBuffer<Input>, BatchBuffer<Output>, StepContext) throws -> Step.Body
    /// For operators with instances (``MapOperator``): the body, and how to replace the instance.
    @usableFromInline
    typealias RestartableBodyFactory = @Sendable (BatchBuffer<Input>, BatchBuffer<Output>, StepContext) throws -> (
        body: Step.Body, restart: () throws -> Void
    )

    @usableFromInline let label: String
    @usableFromInline let inputs: [Int]
    @usableFromInline let partitioner: HashPartitioner<Input>?
    @usableFromInline
    typealias PartsFactory = @Sendable (BatchBuffer<Input>, BatchBuffer<Output>, StepContext) throws -> StepParts
    let makeParts: PartsFactory

    @usableFromInline
    init(label: String, input: Int, partitioner: HashPartitioner<Input>? = nil, makeBody: @escaping BodyFactory) {
        self.label = label
        self.inputs = [input]
        self.partitioner = partitioner
        self.makeParts = { input, output, context in StepParts(body: try makeBody(input, output, context)) }
    }

    @usableFromInline
    init(label: String, input: Int, makeRestartableBody: @escaping RestartableBodyFactory) {
        self.label = label
        self.inputs = [input]
        self.partitioner = nil
        self.makeParts = { input, output, context in
            let parts = try makeRestartableBody(input, output, context)
            return StepParts(body: parts.body, restart: parts.restart)
        }
    }

    @usableFromInline
    init(label: String, input: Int, partitioner: HashPartitioner<Input>? = nil, makeParts: @escaping PartsFactory) {
        self.label = label
        self.inputs = [input]
        self.partitioner = partitioner
        self.makeParts = makeParts
    }

    @usableFromInline var role: NodeRole { .transform }
    @usableFromInline var inputPartitioner: (any Sendable)? { partitioner }

    @usableFromInline
    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step {
        guard let input = input as? BatchBuffer<Input>, let output = output as? BatchBuffer<Output> else {
            throw RuntimeInvariantError("step buffer types of \(context.operatorName)")
        }
        let parts: StepParts
        do {
            parts = try makeParts(input, output, context)
        } catch {
            throw StartFailure(error: error)
        }
        let step = Step(
            nodeID: context.nodeID, name: context.operatorName, body: parts.body, restart: parts.restart, snapshot: parts.snapshot,
            restore: parts.restore)
        step.input = typedInputAccess(input)
        return step
    }
}

/// Merges streams of one type; its step passes batches through unchanged.
@usableFromInline
struct UnionNode<Element: Sendable>: InputBlueprint, OutputBlueprint {
    @usableFromInline typealias Input = Element
    @usableFromInline typealias Output = Element
    @usableFromInline let inputs: [Int]

    @usableFromInline
    init(inputs: [Int]) {
        self.inputs = inputs
    }

    @usableFromInline var role: NodeRole { .union }
    @usableFromInline var label: String { "union" }

    @usableFromInline
    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step {
        guard let input = input as? BatchBuffer<Element>, let output = output as? BatchBuffer<Element> else {
            throw RuntimeInvariantError("union buffer types")
        }
        return Step(nodeID: context.nodeID, name: context.operatorName, body: .sync({ start in
            var records = input.take()
            if start > 0 { records.removeFirst(start) }
            let count = records.count
            if output.items.isEmpty {
                output.items = records
            } else {
                output.items.append(contentsOf: records)
            }
            return .completed(recordsIn: count, recordsOut: count)
        }))
    }
}

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
    func commit(upTo epoch: Int64, jobID: String, name: String, parallelism: Int) throws
    func recover(lastCompleted epoch: Int64?, jobID: String, name: String, parallelism: Int) throws
}

/// An operator could not start (its factory or its sink's writer threw).
struct StartFailure: Error {
    let error: any Error
}

/// Holds a mutable value (a sink writer, an operator instance) for the closures of one step.
@usableFromInline
final class WriterBox<Value> {
    @usableFromInline var value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}

/// Count, describe and cut a step's input buffer (for fault injection), typed once here.
func typedInputAccess<Element>(_ buffer: BatchBuffer<Element>) -> (count: () -> Int, describe: (Int) -> String, cut: (Int) -> () -> Void) {
    (
        count: { buffer.items.count },
        describe: { index in index < buffer.items.count ? describeRecord(buffer.items[index]) : "" },
        cut: { position in
            let whole = buffer.items
            buffer.items = Array(whole[..<position])
            return { buffer.items = whole }
        }
    )
}
