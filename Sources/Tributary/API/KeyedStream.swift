/// A stream partitioned by key (``DataStream/keyBy(_:)``): operators on it see all records of
/// one key in one instance, in order, and keep one state value per key.
///
/// Keyed state lives in the runtime, not in the closures: a call that throws leaves its key's
/// state exactly as it was, so retrying the record after a restart is exact.
public struct KeyedStream<Key: Hashable & Codable & Sendable, Element: Sendable>: Sendable {
    @usableFromInline let environment: LocalEnvironment
    @usableFromInline let inputID: Int
    @usableFromInline let key: @Sendable (Element) throws -> Key

    @usableFromInline
    init(environment: LocalEnvironment, inputID: Int, key: @escaping @Sendable (Element) throws -> Key) {
        self.environment = environment
        self.inputID = inputID
        self.key = key
    }

    /// Routes each record to the instance that owns its key; built here, where `Key` is
    /// concrete, so hashing runs specialised code.
    @inlinable
    var partitioner: HashPartitioner<Element> {
        let key = self.key
        // An `Int` key's hash is one multiplication: cheaper to compute again than to carry.
        let carriesHashes = Key.self != Int.self
        return HashPartitioner { batch, count in
            var parts = Array(repeating: HashPartitioner<Element>.Part([], []), count: count)
            for record in batch {
                // A key that throws fails its record in the keyed operator, which calls the key
                // function again (and never reads its hash): any instance will do, so the first.
                guard let key = try? key(record) else {
                    parts[0].records.append(record)
                    if carriesHashes { parts[0].hashes.append(0) }
                    continue
                }
                let hash = KeyedStateTable<Key, Int>.hash(key, seed: keyedStateHashSeed)
                let target = HashPartitioner<Element>.instance(forHash: hash, of: count)
                parts[target].records.append(record)
                if carriesHashes { parts[target].hashes.append(hash) }
            }
            return parts
        }
    }
}

extension DataStream {
    /// Partitions the stream by `key`: the next operator sees every record of a key in the same
    /// instance, in order. `key` must be a pure function of the record.
    ///
    /// If `key` throws, the record fails in the keyed operator that follows (which calls `key`
    /// again), under that operator's supervision policy, before any key's state sees it:
    /// `.resume` sends it to the dead letters; a restart tries it again, which a pure key
    /// function fails again until the restart strategy gives up. A key function that throws
    /// for a record once and not the next time is not pure: with several instances it could
    /// put that key's state on two of them.
    @inlinable
    public func keyBy<Key: Hashable & Codable & Sendable>(_ key: @escaping @Sendable (Element) throws -> Key) -> KeyedStream<Key, Element> {
        KeyedStream(environment: environment, inputID: nodeID, key: key)
    }
}
