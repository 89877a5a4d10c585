/// The checkpoint a job would resume from does not fit the pipeline that was submitted:
/// operators were renamed, added or removed since it was taken (Flink's "cannot map checkpoint
/// state"). Resuming anyway would restart a source from its beginning while sinks keep their
/// output, or drop state silently, so the job fails before anything runs.
///
/// Set `fault_tolerance.allow_non_restored_state: true` to restore the operators that match and
/// start the others empty (an event lists them).
public struct CheckpointStateMismatchError: Error, Sendable, CustomStringConvertible {
    public let checkpointID: Int64
    /// Operators of the submitted pipeline with nothing in the checkpoint (new or renamed).
    public let operatorsWithoutState: [String]
    /// Operators in the checkpoint that the submitted pipeline does not have (removed or renamed).
    public let stateWithoutOperator: [String]

    var summary: String {
        var parts: [String] = []
        if !operatorsWithoutState.isEmpty { parts.append("operators with no state in it: \(operatorsWithoutState.joined(separator: ", "))") }
        if !stateWithoutOperator.isEmpty { parts.append("state of operators the pipeline does not have: \(stateWithoutOperator.joined(separator: ", "))") }
        return "checkpoint \(checkpointID) does not match the pipeline (\(parts.joined(separator: "; ")))"
    }

    public var description: String {
        "cannot map checkpoint state: \(summary). Give operators the names they had (named(_:)), resume under a new job_id, or set fault_tolerance.allow_non_restored_state: true to restore what matches"
    }
}
