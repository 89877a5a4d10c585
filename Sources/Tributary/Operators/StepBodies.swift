// The record loops of the built-in operators. They are inlinable so that the builder method
// that calls them (itself inlinable) specialises them for the caller's element types: a loop
// over unspecialised generics would go through value-witness tables on every record.

/// The shared frame of the record loops: takes the buffers, runs `each` per record, reports
/// the first failing record, puts the buffers back. `each` is inlined into the loop when the
/// caller passes a closure literal (the builders do), so a `map` costs one call of the user's
/// closure per record.
@inlinable
func makeLoopBody<Input, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>,
    _ each: @escaping (borrowing [Input], Int, inout [Output]) throws -> Void
) -> Step.Body {
    .sync { start in
        var records = input.take()
        var results = output.take()
        let before = results.count
        results.reserveCapacity(before + records.count - start)
        var index = start
        while index < records.count {
            do {
                try each(records, index, &results)
            } catch {
                let record = describeRecord(records[index])
                let produced = results.count - before
                input.items = records
                output.items = results
                return .failed(index: index, recordsIn: index - start, recordsOut: produced, error: error, record: record)
            }
            index += 1
        }
        let consumed = records.count - start
        let produced = results.count - before
        records.removeAll(keepingCapacity: true)
        input.items = records
        output.items = results
        return .completed(recordsIn: consumed, recordsOut: produced)
    }
}

/// A body for keyed operators: `apply` updates the key's entry in the instance's state table.
/// The table is moved into a local for the loop (no exclusivity check per record).
@inlinable
func makeKeyedBody<Key: Hashable, Input, State, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>, store: KeyedStateStore<Key, State>,
    key: @escaping @Sendable (Input) -> Key,
    apply: @escaping (inout [Key: State], Key, Input, inout [Output]) throws -> Void
) -> Step.Body {
    .sync { start in
        var records = input.take()
        var results = output.take()
        var table = store.take()
        let before = results.count
        var index = start
        while index < records.count {
            let record = records[index]
            do {
                try apply(&table, key(record), record, &results)
            } catch {
                let produced = results.count - before
                store.values = table
                input.items = records
                output.items = results
                return .failed(
                    index: index, recordsIn: index - start, recordsOut: produced, error: error, record: describeRecord(record))
            }
            index += 1
        }
        let consumed = records.count - start
        let produced = results.count - before
        store.values = table
        records.removeAll(keepingCapacity: true)
        input.items = records
        output.items = results
        return .completed(recordsIn: consumed, recordsOut: produced)
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
