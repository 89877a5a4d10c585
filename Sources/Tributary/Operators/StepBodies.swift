// The record loops of the built-in operators. They are inlinable so that the builder method
// that calls them (itself inlinable) specialises them for the caller's element types: a loop
// over unspecialised generics would go through value-witness tables on every record.

/// The body of a per-record operator: `each` handles record `index` of the batch, appending
/// its output. `each` is inlined into the loop when the caller passes a closure literal (the
/// builders do), so a `map` costs one call of the user's closure per record.
@inlinable
func makeLoopBody<Input, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>,
    _ each: @escaping (borrowing [Input], Int, inout [Output]) throws -> Void
) -> Step.Body {
    .sync { start in
        withBatchFrame(input, output, from: start) { records, results in
            results.reserveCapacity(results.count + records.count - start)
            var index = start
            while index < records.count {
                do {
                    try each(records, index, &results)
                } catch {
                    return RecordFailure(index, error)
                }
                index += 1
            }
            return nil
        }
    }
}

/// The body of an operator that makes at most one output per record (map, filter,
/// compactMap): `each` handles one record and, when it has an output, initialises the slot it
/// is given with it and returns `true`. The outputs are written in place into the output
/// buffer's reserved capacity (see ``SpareCapacityFill``), not appended one by one.
///
/// `each` stays a closure of its own (not written out in the loop) on purpose: the builders
/// pass a literal that captures the user's closure, and the optimizer specialises it with that
/// closure, so the user's result is written straight into its slot. Written out in the loop,
/// the user's closure is called through its generic signature and a multi-word result is copied
/// out of a temporary, which stalled on store forwarding and halved W0's throughput.
@inlinable
func makeAtMostOneBody<Input, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>,
    _ each: @escaping (Input, UnsafeMutablePointer<Output>) throws -> Bool
) -> Step.Body {
    .sync { start in
        withBatchFrame(input, output, from: start) { records, results in
            results.appendAtMostOneEach(of: records, from: start, each)
        }
    }
}

/// A body for keyed operators: `apply` updates the key's entry in the instance's state table.
/// The table is moved into a local for the loop (no exclusivity check per record).
@inlinable
func makeKeyedBody<Key: Hashable, Input, State, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>, store: KeyedStateStore<Key, State>,
    key: @escaping @Sendable (Input) throws -> Key,
    apply: @escaping (inout KeyedStateTable<Key, State>, Key, Input, inout [Output]) throws -> Void
) -> Step.Body {
    .sync { start in
        withBatchFrame(input, output, from: start) { records, results in
            var table = store.take()
            defer { store.values = table }
            var index = start
            while index < records.count {
                let record = records[index]
                do {
                    try apply(&table, try key(record), record, &results)
                } catch {
                    return RecordFailure(index, error)
                }
                index += 1
            }
            return nil
        }
    }
}

/// Runs `update` on `state`; if it throws, `state` is put back exactly as it was, so a failed
/// call never leaves a half-applied update behind.
@inlinable
func updateKeepingStateOnThrow<State, Input, Output>(
    _ state: inout State, _ record: Input, _ update: (inout State, Input) throws -> Output
) throws -> Output {
    let saved = state
    do {
        return try update(&state, record)
    } catch {
        state = saved
        throw error
    }
}

/// The reduce step for one record: the first record of a key becomes its value, later ones are
/// combined into it. `slot` is only assigned once `combine` has returned.
@inlinable
func reduceSlot<Element>(
    _ slot: inout Element?, _ record: Element, _ combine: (Element, Element) throws -> Element
) throws -> Element {
    guard let current = slot else {
        slot = record
        return record
    }
    let next = try combine(current, record)
    slot = next
    return next
}
