// The record loops of the built-in operators. They are inlinable so that the builder method
// that calls them (itself inlinable) specialises them for the caller's element types: a loop
// over unspecialised generics would go through value-witness tables on every record.

/// The body of a per-record operator: `each` handles record `index` of the batch, appending
/// its output. The builders pass a closure literal, which the optimizer specialises with the
/// user's closure it captures.
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

/// A body for keyed operators with one output per record (mapWithState, reduce): `apply`
/// updates the key's entry in the instance's state table and initialises the output slot it
/// is given. The table is moved into a local for the loop (no exclusivity check per record).
///
/// Each record's key is hashed once, or not at all when the router sent the hashes with the
/// batch. A table larger than the caches takes two passes (``keyedWithPrefetch``): every
/// key and hash of the batch first, then a load of each key's slot — loads that do not depend
/// on each other, so their cache misses overlap — and then the updates. A key that throws
/// ends the first pass there; the second pass computes it again at its record, so the failure
/// is reported for the right record, after the records before it.
@inlinable
func makeKeyedBody<Key: Hashable, Input, State, Output>(
    _ input: BatchBuffer<Input>, _ output: BatchBuffer<Output>, store: KeyedStateStore<Key, State>,
    key: @escaping @Sendable (Input) throws -> Key,
    apply: @escaping (inout KeyedStateTable<Key, State>, Key, _ hash: UInt, Input, UnsafeMutablePointer<Output>) throws -> Void
) -> Step.Body {
    .sync { start in
        withBatchFrame(input, output, from: start) { records, results in
            var table = store.take()
            defer { store.values = table }
            // The hashes the router computed, when it sent them with this batch.
            let given = input.hashes.count == records.count ? input.hashes : nil
            guard table.outgrowsCache else {
                // One output per record, written in place; the loop is spelled out (not a
                // closure per record) and the hash seed read once: through the table, every
                // record waited on two dependent loads for it (W1's keyed stage, 10 % slower).
                let seed = table.storage.seed
                var failure: RecordFailure?
                records.withUnsafeBufferPointer { records in
                    _ = results.appendInPlace(count: records.count - start) { slots in
                        var index = start
                        while index < records.count {
                            let record = records[index]
                            do {
                                let key = try key(record)
                                let hash = given?[index] ?? KeyedStateTable<Key, State>.hash(key, seed: seed)
                                try apply(&table, key, hash, record, slots + (index - start))
                            } catch {
                                failure = RecordFailure(index, error)
                                break
                            }
                            index += 1
                        }
                        return index - start
                    }
                }
                return failure
            }
            return keyedWithPrefetch(records, from: start, hashes: given, into: &results, table: &table, key: key, apply: apply)
        }
    }
}

/// The keyed loop for a table larger than the caches, in two passes over the batch (see
/// ``makeKeyedBody(_:_:store:key:apply:)``).
@inlinable
func keyedWithPrefetch<Key: Hashable, Input, State, Output>(
    _ records: borrowing [Input], from start: Int, hashes given: [UInt]? = nil, into results: inout [Output],
    table: inout KeyedStateTable<Key, State>,
    key: (Input) throws -> Key,
    apply: (inout KeyedStateTable<Key, State>, Key, _ hash: UInt, Input, UnsafeMutablePointer<Output>) throws -> Void
) -> RecordFailure? {
    let count = records.count - start
    guard count > 0 else { return nil }
    return withUnsafeTemporaryAllocation(of: Key.self, capacity: count) { keys in
        withUnsafeTemporaryAllocation(of: UInt.self, capacity: count) { hashes in
            guard let keys = keys.baseAddress, let hashes = hashes.baseAddress else { return nil }
            var keyed = 0
            let seed = table.storage.seed
            records.withUnsafeBufferPointer { records in
                while keyed < count, let next = try? key(records[start + keyed]) {
                    hashes[keyed] = given?[start + keyed] ?? KeyedStateTable<Key, State>.hash(next, seed: seed)
                    (keys + keyed).initialize(to: next)
                    keyed += 1
                }
            }
            // A loop of its own: a load that misses holds up every instruction after it, and
            // between hashing (a String's is long) the processor could not look far enough
            // ahead to have more than one or two misses in flight.
            var touched: UInt8 = 0
            for index in 0..<keyed { touched ^= table.touch(hashes[index]) }
            table.keepTouched(touched)
            var used = 0
            defer { if used < keyed { (keys + used).deinitialize(count: keyed - used) } }
            return results.appendAtMostOneEach(of: records, from: start) { record, slot in
                defer { used += 1 }
                if used < keyed {
                    try apply(&table, (keys + used).move(), hashes[used], record, slot)
                } else {
                    let key = try key(record)
                    try apply(&table, key, table.hash(of: key), record, slot)
                }
                return true
            }
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
