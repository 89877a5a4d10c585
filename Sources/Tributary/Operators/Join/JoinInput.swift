/// A record of one of a join's two inputs. A join is a keyed operator over the union of its
/// inputs, so barriers are aligned and watermarks combined (the minimum of the two) exactly as
/// for ``DataStream/union(_:)``.
@usableFromInline
enum JoinInput<Left: Sendable, Right: Sendable>: Sendable {
    case left(Left)
    case right(Right)
}

extension JoinInput: Codable where Left: Codable, Right: Codable {}

extension DataStream {
    /// This stream and `other` as one stream of ``JoinInput``, each record tagged with its side.
    @inlinable
    func joinInputs<Right: Sendable>(_ other: DataStream<Right>, operation: String) -> DataStream<JoinInput<Element, Right>> {
        let left = TransformNode<Element, JoinInput<Element, Right>>(label: "joinLeft", input: nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in results.append(.left(records[index])) }
        }
        let lefts = DataStream<JoinInput<Element, Right>>(environment: environment, nodeID: environment.addNode(left))
        guard other.environment === environment else {
            environment.recordProblem(
                PipelineError(
                    code: .foreignStream,
                    message: "\(operation) of '\(name)' with '\(other.name)', a stream of another environment: build all streams of a job from one LocalEnvironment"))
            return lefts
        }
        let right = TransformNode<Right, JoinInput<Element, Right>>(label: "joinRight", input: other.nodeID) { input, output, _ in
            makeLoopBody(input, output) { records, index, results in results.append(.right(records[index])) }
        }
        return lefts.union(DataStream<JoinInput<Element, Right>>(environment: environment, nodeID: environment.addNode(right)))
    }
}
