/// The fused operators of one instance of a physical vertex: steps run one after another over
/// the batch in `head`, then the emitter sends the result downstream (or the last step is a sink).
///
/// Owned by one ``OperatorInstance`` and used only from its run loop, so it needs no lock;
/// its async methods run on that actor (`nonisolated(nonsending)`).
@usableFromInline
final class Chain {
    /// The input buffer of the first step (for a source vertex: the source's output buffer).
    @usableFromInline let head: AnyObject
    let steps: [Step]
    let emitter: (any ChainEmitter)?
    let instance: Int
    /// The source's node id and records read, for a source vertex.
    let sourceNodeID: Int?
    let sourceName: String?
    @usableFromInline var sourceRecords = 0

    init(head: AnyObject, steps: [Step], emitter: (any ChainEmitter)?, instance: Int, source: (id: Int, name: String)?) {
        self.head = head
        self.steps = steps
        self.emitter = emitter
        self.instance = instance
        self.sourceNodeID = source?.id
        self.sourceName = source?.name
    }

    /// Runs every step over the batch in `head` and emits the result.
    /// - Throws: ``OperatorFailure`` when a step's code throws, or the inbox's shutdown error.
    @usableFromInline
    nonisolated(nonsending) func process() async throws {
        for step in steps {
            let ordinalBefore = step.recordsIn
            switch await step.run(from: 0) {
            case .completed:
                continue
            case .failed(let index, let recordsIn, _, let error, let record):
                _ = index
                throw OperatorFailure(
                    operatorName: step.name, instance: instance, recordIndex: ordinalBefore + recordsIn, record: record,
                    error: error)
            }
        }
        try await emitter?.emit()
    }

    /// The input has ended: lets every step finish (sinks close) and tells downstream.
    @usableFromInline
    nonisolated(nonsending) func finish() async throws {
        for step in steps {
            do {
                try step.finish()
            } catch {
                throw OperatorFailure(operatorName: step.name, instance: instance, recordIndex: nil, record: nil, error: error)
            }
        }
        try await emitter?.finish()
    }

    /// Records in and out per logical operator, for the job's metrics.
    var counters: [(nodeID: Int, recordsIn: Int, recordsOut: Int)] {
        var result = steps.map { ($0.nodeID, $0.recordsIn, $0.recordsOut) }
        if let sourceNodeID { result.insert((sourceNodeID, 0, sourceRecords), at: 0) }
        return result
    }
}

/// The end of a chain that sends its output to other vertices' inboxes.
@usableFromInline
protocol ChainEmitter: AnyObject {
    /// Sends the records in the chain's output buffer downstream, suspending under backpressure.
    nonisolated(nonsending) func emit() async throws
    /// Sends end-of-stream on every outgoing lane.
    nonisolated(nonsending) func finish() async throws
}

extension Chain {
    /// A failure of the source itself (opening or reading), attributed to the source operator.
    @usableFromInline
    func sourceFailure(_ error: any Error) -> OperatorFailure {
        OperatorFailure(operatorName: sourceName ?? "source", instance: instance, recordIndex: nil, record: nil, error: error)
    }
}
