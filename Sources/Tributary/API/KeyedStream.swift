/// A stream partitioned by key (``DataStream/keyBy(_:)``): operators on it see all records of
/// one key in one instance, in order, and keep one state value per key.
///
/// Keyed state lives in the runtime, not in the closures: a call that throws leaves its key's
/// state exactly as it was, so retrying the record after a restart is exact.
public struct KeyedStream<Key: Hashable & Codable & Sendable, Element: Sendable>: Sendable {
    @usableFromInline let environment: LocalEnvironment
    @usableFromInline let inputID: Int
    @usableFromInline let key: @Sendable (Element) -> Key

    @usableFromInline
    init(environment: LocalEnvironment, inputID: Int, key: @escaping @Sendable (Element) -> Key) {
        self.environment = environment
        self.inputID = inputID
        self.key = key
    }

    /// Routes each record to the instance that owns its key; built here, where `Key` is
    /// concrete, so hashing runs specialised code.
    @inlinable
    var partitioner: HashPartitioner<Element> {
        let key = self.key
        return HashPartitioner { batch, count in
            var parts = Array(repeating: [Element](), count: count)
            for record in batch {
                parts[HashPartitioner<Element>.instance(for: key(record), of: count)].append(record)
            }
            return parts
        }
    }

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
            let body = makeKeyedBody(input, output, store: store, key: key) { table, key, record, results in
                results.append(try updateKeepingStateOnThrow(&table[key, default: initial], record, update))
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
            let body = makeKeyedBody(input, output, store: store, key: key) { table, key, record, results in
                results.append(try reduceSlot(&table[key], record, combine))
            }
            return StepParts(body: body, snapshot: store.snapshot, restore: store.restore)
        })
        return DataStream(environment: environment, nodeID: environment.addNode(node))
    }
}

extension DataStream {
    /// Partitions the stream by `key`: the next operator sees every record of a key in the same
    /// instance, in order. `key` must be a pure function of the record.
    @inlinable
    public func keyBy<Key: Hashable & Codable & Sendable>(_ key: @escaping @Sendable (Element) -> Key) -> KeyedStream<Key, Element> {
        KeyedStream(environment: environment, inputID: nodeID, key: key)
    }
}
