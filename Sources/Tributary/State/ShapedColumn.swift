import Dispatch
import Synchronization

/// A column of `Codable` values that all have one shape — the same primitive, or a struct
/// with the same fields of the same primitive kinds in the same order — written as that shape
/// once and then each value's bare payloads, one row after another.
///
/// Keyed state is mostly that: a table of a million `struct { count, sum, last }` values. In
/// ``StateCoder``'s self-describing format each value repeats its field names and tags, and
/// decoding looks each field up by name in the bytes; here a row is 24 bytes and a field is
/// found by its position in the shape. What does not have one shape (a nested struct, an
/// array, an optional that is sometimes absent, fields in another order) is not written this
/// way: the encoder says so with ``Unshaped`` and the caller uses ``StateCoder`` instead.
///
/// Layout: a layout byte (``Layout``); for `.fields`, a varint field count and, per field, its
/// name (length-prefixed UTF-8) and ``Kind`` byte; for `.single`, one ``Kind`` byte; then the
/// rows. Payloads: integers and doubles 8 bytes little-endian, booleans one byte (0 or 1),
/// strings a varint length and UTF-8.
enum ShapedColumn {
    enum Layout: UInt8 {
        /// Each value is one primitive (an `Int`, a `String`, a raw-valued enum, a `Date`).
        case single = 1
        /// Each value is a keyed container of primitive fields.
        case fields = 2
    }

    enum Kind: UInt8 {
        case int = 1
        case uint = 2
        case double = 3
        case bool = 4
        case string = 5

        var name: String {
            switch self {
            case .int: "a signed integer"
            case .uint: "an unsigned integer"
            case .double: "a number"
            case .bool: "a boolean"
            case .string: "a string"
            }
        }
    }

    struct Field: Equatable {
        let name: String
        let kind: Kind
    }

    /// The values do not all have one shape that a shaped column can hold.
    struct Unshaped: Error {}

    /// What every value of a column has in common (`layout` nil: no values).
    struct Shape: Equatable {
        let layout: Layout?
        let fields: [Field]
        let singleKind: Kind?
    }

    /// Raised by the first part that fails, so the others stop.
    final class Abort: Sendable {
        private let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .relaxed) }
        func raise() { raised.store(true, ordering: .relaxed) }
    }

    /// The part `part` of `parts` near-equal parts of `0..<count`.
    static func range(of part: Int, in parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }

    /// `body(0)`, …, `body(parts - 1)`, at once on as many threads, in part order.
    static func inParallel<R: Sendable>(_ parts: Int, _ body: @escaping @Sendable (Int) -> R) -> [R] {
        let results = Mutex<[Int: R]>([:])
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let result = body(part)
            results.withLock { $0[part] = result }
        }
        let collected = results.withLock { $0 }
        return (0..<parts).compactMap { collected[$0] }
    }
}

/// Owns the state of one shaped encoding or decoding: the containers of its values hold it,
/// so one kept past its value's `encode(to:)` or `init(from:)` cannot outlive the memory.
final class ShapedStateBox<State> {
    let pointer: UnsafeMutablePointer<State>

    init(_ state: State) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: state)
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
