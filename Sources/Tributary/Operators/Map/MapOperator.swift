/// A stateful map operator made by a factory (`map { MyOperator() }`): the factory is
/// called when the operator starts and again at every restart, so a restart always begins from
/// a fresh instance.
///
/// What a restart keeps: nothing of a plain `MapOperator` (the fresh instance is all there is).
/// An operator that is also a ``CheckpointableOperator`` gets its state carried over: the fresh
/// instance is given `restoreState(snapshotState())` of the instance as it was *before* the call
/// that failed. Why: that state is the operator's part of the next checkpoint, so losing it on
/// an operator-level restart would silently reset it for the rest of the job, and output would
/// differ from a run without the failure; and why *before* the call: a call that throws may
/// have changed `self` halfway, and the retry must not see that half-applied change (the same
/// guarantee keyed state gives, ``KeyedStream/mapWithState(initial:_:)``). Keeping that copy
/// costs checkpointable operators one copy of `self` per call; other operators pay nothing.
///
/// ```
///   record:     r1     r2     r3 (throws after count += 1)  restart  r3 (retried)
///   count:      1      2      3 (discarded)                  2        3
/// ```
///
/// With `fault_tolerance.operator_timeout` set, a `map` call running longer is cancelled and
/// fails the operator with ``OperatorTimeoutError``, whether or not it checks for cancellation:
/// a call that does not is abandoned (it may go on running in the background; its result is
/// dropped) and the operator goes on from its state before the call. (Synchronous closures —
/// `map { }`, `filter { }` — cannot be interrupted, so the timeout applies to async calls only.)
public protocol MapOperator<Input, Output>: Sendable {
    associatedtype Input: Sendable
    associatedtype Output: Sendable
    /// Transforms one record; may keep state in `self` between calls.
    mutating func map(_ input: Input) async throws -> Output
}

/// An operator whose own state (beyond the runtime's keyed state) belongs in checkpoints:
/// `snapshotState()` is called at each checkpoint barrier and `restoreState(_:)` on a fresh
/// instance when a job recovers from a checkpoint.
///
/// - Important: write such an operator as a value type (a `struct`). Putting back the state from
///   before a failing call copies the operator value; for a class that copies only a reference,
///   so a half-applied mutation of a failing call would survive the restart.
public protocol CheckpointableOperator {
    associatedtype State: Codable & Sendable
    func snapshotState() throws -> State
    mutating func restoreState(_ state: State) throws
}

extension DataStream {
    /// Transforms each record with an operator instance made by `make` (called at start and at
    /// every restart, once per parallel instance).
    @inlinable
    public func map<Operator: MapOperator>(
        _ make: @escaping @Sendable () throws -> Operator
    ) -> DataStream<Operator.Output> where Operator.Input == Element {
        var node = TransformNode<Element, Operator.Output>(label: "map", input: nodeID, makeParts: { input, output, context in
            let timeout = context.operatorTimeout
            // Decided once: only a checkpointable operator keeps a copy of itself from before
            // each call, for a restart to carry its state over (see ``MapOperator``).
            let keepsState = Operator.self is any CheckpointableOperator.Type
            // The buffers and the operator belong to the one instance actor that runs this step;
            // the async body runs only on that actor (its `isolated` parameter).
            nonisolated(unsafe) let (input, output) = (input, output)
            nonisolated(unsafe) let holder = WriterBox<Operator?>(try make())
            let body: Step.Body = .async { _, start in
                guard var instance = holder.value else {
                    return .failed(index: start, recordsIn: 0, recordsOut: 0, error: RuntimeInvariantError("operator instance missing"), record: "")
                }
                holder.value = nil
                defer { holder.value = instance }
                return await withBatchFrame(input, output, from: start) { records, results in
                    var index = start
                    while index < records.count {
                        do {
                            if let timeout {
                                // The call works on a copy, so a call abandoned by the timeout
                                // cannot touch the instance the next call uses.
                                let record = records[index]
                                let current = instance
                                let (updated, result) = try await withOperatorTimeout(timeout) {
                                    var copy = current
                                    let result = try await copy.map(record)
                                    return (copy, result)
                                }
                                instance = updated
                                results.append(result)
                            } else if keepsState {
                                let saved = instance
                                do {
                                    results.append(try await instance.map(records[index]))
                                } catch {
                                    // Drop what the failing call changed: the restart and the
                                    // retry go on from the state before it.
                                    instance = saved
                                    throw error
                                }
                            } else {
                                results.append(try await instance.map(records[index]))
                            }
                        } catch {
                            return RecordFailure(index, error)
                        }
                        index += 1
                    }
                    return nil
                }
            }
            return StepParts(
                body: body,
                restart: {
                    var fresh = try make()
                    // The held instance is the one from before the failing call (see the body).
                    if keepsState, let previous = holder.value { fresh = try carryingState(of: previous, into: fresh) }
                    holder.value = fresh
                },
                snapshot: { _ in
                    guard let state = holder.value as? any CheckpointableOperator else { return nil }
                    return .bytes(try encodeOperatorState(state))
                },
                restore: { parts, instance, _ in
                    guard let bytes = parts[instance], let state = holder.value as? any CheckpointableOperator else { return }
                    holder.value = try restoredOperator(state, from: bytes) as? Operator
                })
        })
        // An operator whose state is checkpointed keeps state per instance: its records must
        // not move between instances.
        node.servesAnyRecord = !(Operator.self is any CheckpointableOperator.Type)
        return DataStream<Operator.Output>(environment: environment, nodeID: environment.addNode(node))
    }
}

/// A ``CheckpointableOperator``'s state as checkpoint bytes.
@usableFromInline
func encodeOperatorState<Operator: CheckpointableOperator>(_ instance: Operator) throws -> [UInt8] {
    try StateCoder.encode(instance.snapshotState())
}

/// `fresh` with the state of `previous` (`restoreState(snapshotState())`), for an operator type
/// that is a ``CheckpointableOperator``; `fresh` unchanged for any other.
@usableFromInline
func carryingState<Operator>(of previous: Operator, into fresh: Operator) throws -> Operator {
    guard let previous = previous as? any CheckpointableOperator else { return fresh }
    return try transplantState(of: previous, into: fresh)
}

private func transplantState<Checkpointable: CheckpointableOperator, Operator>(
    of previous: Checkpointable, into fresh: Operator
) throws -> Operator {
    guard var restored = fresh as? Checkpointable else { return fresh }
    try restored.restoreState(previous.snapshotState())
    return restored as? Operator ?? fresh
}

/// A copy of `instance` with the state restored from checkpoint bytes.
@usableFromInline
func restoredOperator<Operator: CheckpointableOperator>(_ instance: Operator, from bytes: [UInt8]) throws -> Operator {
    var copy = instance
    try copy.restoreState(StateCoder.decode(Operator.State.self, from: bytes))
    return copy
}
