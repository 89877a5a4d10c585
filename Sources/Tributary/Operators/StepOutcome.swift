/// What one step reports after running over (the rest of) its input batch.
@usableFromInline
enum StepOutcome {
    /// Every input record from `start` on was processed; the input buffer is now empty.
    case completed(recordsIn: Int, recordsOut: Int)
    /// The record at `index` of the input batch threw. Records before it were processed (their
    /// output is in the output buffer); the input buffer is left intact so the step can be run
    /// again from `index`.
    case failed(index: Int, recordsIn: Int, recordsOut: Int, error: any Error, record: String)
}

/// A short, printable form of a record for failure reports.
@usableFromInline
func describeRecord<T>(_ record: T) -> String {
    let text = String(describing: record)
    return text.count <= 200 ? text : String(text.prefix(197)) + "..."
}
