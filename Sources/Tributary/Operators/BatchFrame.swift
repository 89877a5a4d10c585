/// The frame every record loop runs in, in one place: move the input batch and the output
/// buffer into locals (a loop over a class's stored array pays an exclusivity check per
/// record), run the operator's loop, and report how it went — on success the input is emptied,
/// on a failing record both buffers are put back as they are, so the supervisor can retry or
/// skip from that record with the output of the records before it kept.
///
/// Inlinable, and the loops are passed as closure literals by inlinable builders, so the
/// frame and the loop specialise to the caller's element types: no existential, allocation,
/// lock or `await` per record.
@inlinable
func withBatchFrame<Input, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>, from start: Int,
    _ loop: (_ records: borrowing [Input], _ results: inout [Output]) -> RecordFailure?
) -> StepOutcome {
    var records = input.take()
    var results = output.take()
    let before = results.count
    let failure = loop(records, &results)
    return finishBatchFrame(records: &records, results: results, produced: results.count - before, failure: failure, start: start, input, output)
}

/// ``withBatchFrame(_:_:from:_:)`` for loops that suspend (`mapAsync`, ``MapOperator``); runs on
/// the instance's actor.
@inlinable
nonisolated(nonsending) func withBatchFrame<Input, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>, from start: Int,
    _ loop: nonisolated(nonsending) (_ records: [Input], _ results: inout [Output]) async -> RecordFailure?
) async -> StepOutcome {
    var records = input.take()
    var results = output.take()
    let before = results.count
    let failure = await loop(records, &results)
    return finishBatchFrame(records: &records, results: results, produced: results.count - before, failure: failure, start: start, input, output)
}

@inlinable
func finishBatchFrame<Input, Output>(
    records: inout [Input], results: [Output], produced: Int, failure: RecordFailure?, start: Int, _ input: BatchBuffer<Input>,
    _ output: BatchBuffer<Output>
) -> StepOutcome {
    if let failure {
        let record = describeRecord(records[failure.index])
        input.items = records
        output.items = results
        return .failed(index: failure.index, recordsIn: failure.index - start, recordsOut: produced, error: failure.error, record: record)
    }
    let consumed = records.count - start
    records.removeAll(keepingCapacity: true)
    input.items = records
    output.items = results
    return .completed(recordsIn: consumed, recordsOut: produced)
}

/// The record of a batch that threw, and what it threw.
@usableFromInline
struct RecordFailure {
    @usableFromInline let index: Int
    @usableFromInline let error: any Error

    @inlinable
    init(_ index: Int, _ error: any Error) {
        self.index = index
        self.error = error
    }
}
