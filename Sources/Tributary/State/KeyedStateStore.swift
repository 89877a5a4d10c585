/// The keyed state of one instance of a keyed operator: one value per key, owned by the runtime
/// rather than by user code, so a call that throws never wrote into it and a restarted operator
/// finds it intact.
@usableFromInline
final class KeyedStateStore<Key: Hashable, Value> {
    @usableFromInline var values: [Key: Value] = [:]

    @usableFromInline
    init() {}

    /// Moves the table out (leaving this store empty) so the caller can mutate it without copying.
    @inlinable
    func take() -> [Key: Value] {
        var taken: [Key: Value] = [:]
        swap(&taken, &values)
        return taken
    }
}
