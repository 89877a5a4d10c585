/// The keyed state of one instance of a keyed operator: one value per key, owned by the runtime
/// rather than by user code, so a call that throws never wrote into it and a restarted operator
/// finds it intact.
@usableFromInline
final class KeyedStateStore<Key: Hashable, Value> {
    /// `nil` only while a batch has the table out (``take()``), so taking it allocates nothing.
    @usableFromInline var slot: KeyedStateTable<Key, Value>? = KeyedStateTable()

    @usableFromInline
    init() {}

    /// The table (put it back with the setter after ``take()``).
    @inlinable
    var values: KeyedStateTable<Key, Value> {
        get { slot ?? KeyedStateTable() }
        set { slot = newValue }
    }

    /// Moves the table out (leaving this store empty) so the caller can mutate it in place,
    /// without copying and without an exclusivity check per record.
    @inlinable
    func take() -> KeyedStateTable<Key, Value> {
        guard let table = slot else { return KeyedStateTable() }
        slot = nil
        return table
    }
}

extension KeyedStateStore where Key: Codable & Sendable, Value: Codable & Sendable {
    /// The table for a checkpoint: a copy-on-write copy taken in O(1) at the barrier, encoded
    /// by the coordinator (the instance's next update copies the table once instead).
    /// Inlinable, like restore, so that encoding is specialised for the table's types.
    @inlinable
    func snapshot(epoch: Int64) throws -> SnapshotPart? {
        let table = values
        return .deferred { try KeyedStateCodec.encode(table) }
    }

    /// Loads the keys this instance owns from every instance's checkpointed table: keys are
    /// redistributed by hash, so a resumed process (whose hash seed differs) or a changed
    /// parallelism still finds every key exactly once.
    @inlinable
    func restore(parts: [Int: [UInt8]], instance: Int, parallelism: Int) throws {
        // Decoded into a local: through the `values` property every part would copy the table.
        var table = KeyedStateTable<Key, Value>()
        defer { values = table }
        for (_, bytes) in parts.sorted(by: { $0.key < $1.key }) {
            try KeyedStateCodec.decode(bytes, into: &table) { key in
                parallelism == 1 || HashPartitioner<Key>.instance(for: key, of: parallelism) == instance
            }
        }
    }
}
