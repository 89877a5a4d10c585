/// Writes records straight into an array's reserved spare capacity.
///
/// `Array.append` checks that the array is uniquely referenced and has room on every call — a
/// call into the runtime that cost more than the user's `map` closure in W0's profile — and a
/// stored closure that returns a multi-word value through a temporary makes the copy out of
/// that temporary stall on store forwarding. `append(contentsOf:)` instead reserves once and
/// hands a sequence's `_copyContents(initializing:)` the spare capacity as a pointer; this
/// sequence's copy is the caller's own loop, which initialises the slots in place. The batch
/// buffers stay the recycled, warm arrays they were.
@usableFromInline
struct SpareCapacityFill<Element>: Sequence {
    /// Slots the fill may initialise; the array reserves them before appending.
    @usableFromInline let needed: Int
    /// Initialises slots from the first one on, returns how many it initialised (at most `needed`).
    @usableFromInline let fill: (UnsafeMutablePointer<Element>) -> Int
    /// Set when `fill` ran (the standard library called `_copyContents` with room enough).
    @usableFromInline let ran: UnsafeMutablePointer<Bool>

    @inlinable
    init(needed: Int, ran: UnsafeMutablePointer<Bool>, fill: @escaping (UnsafeMutablePointer<Element>) -> Int) {
        self.needed = needed
        self.ran = ran
        self.fill = fill
    }

    @inlinable
    func makeIterator() -> EmptyCollection<Element>.Iterator { EmptyCollection<Element>.Iterator() }

    /// Zero: `append(contentsOf:)` traps when a sequence writes fewer than it promised, and a
    /// filter writes fewer than `needed`. The caller has reserved the room already.
    @inlinable
    var underestimatedCount: Int { 0 }

    @inlinable
    func _copyContents(initializing buffer: UnsafeMutableBufferPointer<Element>) -> (EmptyCollection<Element>.Iterator, Int) {
        guard let base = buffer.baseAddress, buffer.count >= needed else { return (makeIterator(), 0) }
        ran.pointee = true
        return (makeIterator(), fill(base))
    }
}

extension Array {
    /// Appends what `fill` initialises in up to `count` slots after the last element, and
    /// returns how many it initialised. `fill` runs exactly once.
    @inlinable
    mutating func appendInPlace(count: Int, _ fill: (UnsafeMutablePointer<Element>) -> Int) -> Int {
        guard count > 0 else { return 0 }
        reserveCapacity(self.count + count)
        var ran = false
        var written = 0
        withUnsafeMutablePointer(to: &ran) { ran in
            withoutActuallyEscaping(fill) { fill in
                append(contentsOf: SpareCapacityFill(needed: count, ran: ran, fill: { slots in
                    written = fill(slots)
                    return written
                }))
            }
        }
        if ran { return written }
        // A standard library that does not copy through `_copyContents` with the reserved
        // room: fill a temporary buffer and append its elements, so no record is lost.
        return withUnsafeTemporaryAllocation(of: Element.self, capacity: count) { slots in
            guard let base = slots.baseAddress else { return 0 }
            let written = fill(base)
            append(contentsOf: UnsafeMutableBufferPointer(start: base, count: written))
            base.deinitialize(count: written)
            return written
        }
    }

    /// Runs `each` over `records[start...]`; `each` initialises the slot it is given with the
    /// record's output and returns `true`, or returns `false` for a record without output. A
    /// record that throws ends the loop: the outputs before it are appended, and its index and
    /// error returned. `each` must throw before it initialises the slot (compute the value,
    /// then `initialize(to:)`): a slot initialised by a call that throws is not counted, and
    /// its value is never released.
    @inlinable
    mutating func appendAtMostOneEach<Input>(
        of records: borrowing [Input], from start: Int, _ each: (Input, UnsafeMutablePointer<Element>) throws -> Bool
    ) -> RecordFailure? {
        var failure: RecordFailure?
        records.withUnsafeBufferPointer { input in
            _ = appendInPlace(count: input.count - start) { slots in
                var written = 0
                var index = start
                while index < input.count {
                    do {
                        if try each(input[index], slots + written) { written += 1 }
                    } catch {
                        failure = RecordFailure(index, error)
                        break
                    }
                    index += 1
                }
                return written
            }
        }
        return failure
    }
}
