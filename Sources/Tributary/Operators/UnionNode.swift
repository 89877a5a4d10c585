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
