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
    /// Set by the stateless builders (`map`, `filter`, `compactMap`, `flatMap`, `mapAsync`).
    @usableFromInline var servesAnyRecord = false

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
            restore: parts.restore, timers: parts.timers, endOfInput: parts.endOfInput, advanceWatermark: parts.advanceWatermark,
            watermarkGenerator: parts.watermarkGenerator, lateRecordsDropped: parts.lateRecordsDropped)
        step.input = typedInputAccess(input)
        return step
    }
}
