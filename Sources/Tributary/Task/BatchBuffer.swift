/// A reusable batch of records passed between the steps of one fused chain.
///
/// Steps move `items` into a local variable for their loop and put it back afterwards: a loop
/// over a class's stored array would pay a run-time exclusivity check per record.
@usableFromInline
final class BatchBuffer<Element> {
    @usableFromInline var items: [Element]
    /// For the input of a keyed operator: each record's key hash, when the router that sent
    /// the batch computed them (``Message/keyedBatch(_:hashes:)``); empty otherwise.
    @usableFromInline var hashes: [UInt] = []

    @usableFromInline
    init(capacity: Int) {
        items = []
        items.reserveCapacity(capacity)
    }

    /// Takes the records out, leaving the buffer empty (so the caller's array is unique and
    /// mutating it does not copy).
    @inlinable
    func take() -> [Element] {
        var taken: [Element] = []
        swap(&taken, &items)
        return taken
    }
}
