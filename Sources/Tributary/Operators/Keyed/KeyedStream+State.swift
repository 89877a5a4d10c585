// The keyed operators with one state value per key: mapWithState and reduce.

extension KeyedStream {
    /// Keeps one `State` per key, starting at `initial`; `update` may change the key's state and
    /// returns the record to emit.
    ///
    /// - Important: if `update` throws, the key's state stays exactly as it was before the call.
    @inlinable
    public func mapWithState<State: Codable & Sendable, Output: Sendable>(
        initial: State, _ update: @escaping @Sendable (inout State, Element) throws -> Output
    ) -> DataStream<Output> {
        let key = self.key
        let node = TransformNode<Element, Output>(label: "mapWithState", input: inputID, partitioner: partitioner, makeParts: {
            input, output, _ in
            let store = KeyedStateStore<Key, State>()
            let body = makeKeyedBody(input, output, store: store, key: key) { table, key, hash, record, slot in
                slot.initialize(to: try updateKeepingStateOnThrow(&table[key, hash: hash, default: initial], record, update))
            }
            return StepParts(body: body, snapshot: store.snapshot, restore: store.restore)
        })
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }
}

extension KeyedStream where Element: Codable {
    /// Combines the records of each key into a running value and emits it on every record: the
    /// first record of a key is emitted as is, each later one as `combine(runningValue, record)`.
    ///
    /// - Important: if `combine` throws, the key's running value stays as it was.
    @inlinable
    public func reduce(_ combine: @escaping @Sendable (Element, Element) throws -> Element) -> DataStream<Element> {
        let key = self.key
        let node = TransformNode<Element, Element>(label: "reduce", input: inputID, partitioner: partitioner, makeParts: {
            input, output, _ in
            let store = KeyedStateStore<Key, Element>()
            let body = makeKeyedBody(input, output, store: store, key: key) { table, key, hash, record, slot in
                slot.initialize(to: try reduceSlot(&table[key, hash: hash], record, combine))
            }
            return StepParts(body: body, snapshot: store.snapshot, restore: store.restore)
        })
        return DataStream(environment: environment, nodeID: environment.addNode(node))
    }
}
