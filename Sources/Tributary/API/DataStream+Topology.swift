extension DataStream {
    /// Names the operator that produced this stream. Names appear in results, events and
    /// checkpoints, and must be unique within a job (checked at `submit()`).
    public func named(_ name: String) -> DataStream<Element> {
        if name.isEmpty || name.contains("/") || name.contains("\n") {
            environment.recordProblem(
                PipelineError(code: .invalidName, message: "operator name \"\(name)\" is not allowed: use a non-empty name without '/' or line breaks"))
        } else {
            environment.updateOperator(of: nodeID) { $0.name = name }
        }
        return self
    }

    /// Runs `count` instances of the operator that produced this stream. Records reach them
    /// round-robin by batch, or by key after ``keyBy(_:)``. Sources run as one instance.
    public func parallelism(_ count: Int) -> DataStream<Element> {
        if count < 1 || count > 1024 {
            environment.recordProblem(
                PipelineError(code: .invalidParallelism, message: "parallelism(\(count)) for '\(name)' is out of range: use 1...1024"))
        } else {
            environment.setParallelism(count, ofOperatorOf: nodeID)
        }
        return self
    }

    /// Sets how the operator that produced this stream is supervised, overriding the
    /// environment's `fault_tolerance` default for it.
    public func supervised(_ policy: SupervisionPolicy) -> DataStream<Element> {
        environment.recordPolicyProblem(policy, of: nodeID)
        environment.updateOperator(of: nodeID) { $0.policy = policy }
        return self
    }

    /// Merges this stream with `others` (fan-in). Records of each input keep their order;
    /// records of different inputs interleave.
    public func union(_ others: DataStream<Element>...) -> DataStream<Element> {
        guard !others.isEmpty else { return self }
        for other in others where other.environment !== environment {
            environment.recordProblem(
                PipelineError(code: .foreignStream, message: "union of '\(name)' with '\(other.name)', a stream of another environment: build all streams of a job from one LocalEnvironment"))
            return self
        }
        let node = UnionNode<Element>(inputs: [nodeID] + others.map(\.nodeID))
        return DataStream(environment: environment, nodeID: environment.addNode(node))
    }

    /// Ends the stream in `sink`. See ``Sink`` for when its output counts as committed.
    @discardableResult
    public func sink<S: Sink>(_ sink: S) -> DataStreamSink where S.Element == Element {
        let id = environment.addNode(SinkNode(sink: sink, input: nodeID))
        return DataStreamSink(environment: environment, nodeID: id)
    }

    /// Ends the stream in `sink`, whose writers `await` (see ``AsyncSink`` for how the runtime
    /// calls them and when their output counts as committed).
    @discardableResult
    public func sink<S: AsyncSink>(_ sink: S) -> DataStreamSink where S.Element == Element {
        let id = environment.addNode(AsyncSinkNode(sink: sink, input: nodeID))
        return DataStreamSink(environment: environment, nodeID: id)
    }
}

/// The sink operator added by `sink(_:)` (of a ``Sink`` or an ``AsyncSink``); lets it be named
/// or run in parallel.
public struct DataStreamSink: Sendable {
    let environment: LocalEnvironment
    let nodeID: Int

    /// The sink operator's name.
    public var name: String { environment.nodeName(nodeID) }

    /// Names the sink operator.
    @discardableResult
    public func named(_ name: String) -> DataStreamSink {
        _ = DataStream<Never>(environment: environment, nodeID: nodeID).named(name)
        return self
    }

    /// Sets how the sink is supervised (a failed write is retried on a fresh writer under
    /// `.restart`).
    @discardableResult
    public func supervised(_ policy: SupervisionPolicy) -> DataStreamSink {
        environment.recordPolicyProblem(policy, of: nodeID)
        environment.updateNode(nodeID) { $0.policy = policy }
        return self
    }

    /// Runs `count` instances of the sink.
    @discardableResult
    public func parallelism(_ count: Int) -> DataStreamSink {
        _ = DataStream<Never>(environment: environment, nodeID: nodeID).parallelism(count)
        return self
    }
}
