import Tributary

/// The Nexmark queries this package implements, with the official queries' semantics (see
/// `Examples/Nexmark/README.md` for what each computes). Each turns the event stream, with
/// timestamps and watermarks, into rows of comma-separated fields.
public enum Query: String, Sendable, CaseIterable, CustomStringConvertible {
    case q0, q1, q2, q3, q4, q5, q7, q8, q9, q11, q12

    public var description: String { rawValue }

    /// Whether the rows are a pure function of the events (q12's windows follow the
    /// processing-time clock, so its rows depend on how fast the job ran).
    public var isDeterministic: Bool { self != .q12 }

    /// Adds the query to the pipeline: `events` must carry event-time watermarks
    /// (``Query/timestamped(_:)``).
    public func build(_ events: DataStream<Event>) -> DataStream<String> {
        switch self {
        case .q0: Q0.build(events)
        case .q1: Q1.build(events)
        case .q2: Q2.build(events)
        case .q3: Q3.build(events)
        case .q4: Q4.build(events)
        case .q5: Q5.build(events)
        case .q7: Q7.build(events)
        case .q8: Q8.build(events)
        case .q9: Q9.build(events)
        case .q11: Q11.build(events)
        case .q12: Q12.build(events)
        }
    }

    /// The official benchmark's watermark: the largest event time seen minus 4 s.
    public static func timestamped(_ events: DataStream<Event>) -> DataStream<Event> {
        events.withTimestamps({ $0.dateTime }, watermarks: .boundedOutOfOrderness(.seconds(4)))
    }
}

/// How rows are written: fields joined by commas, strings as they are except the empty string,
/// which is written `""`.
enum CSV {
    static func row(_ fields: String...) -> String { fields.joined(separator: ",") }

    static func text(_ value: String) -> String { value.isEmpty ? "\"\"" : value }

    static func time(_ value: Duration) -> String { EventFormatter.timestamp(value) }
}

extension Duration {
    /// Whole milliseconds (Nexmark times have millisecond precision).
    var milliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }

    /// The start, in milliseconds, of the tumbling window of `size` milliseconds holding this
    /// time (aligned to the epoch, also before it).
    func windowStart(every size: Int64) -> Int64 {
        let millis = milliseconds
        return millis - ((millis % size) + size) % size
    }
}
