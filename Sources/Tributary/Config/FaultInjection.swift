/// A fault to inject into one operator, for benchmarks, tests and chaos drills:
/// `config["fault_injection"]`. Off unless configured.
///
/// ```swift
/// "fault_injection": [
///     ["operator": "parse", "inject": "throw", "every_records": 10_000],
///     ["operator": "enrich", "inject": "hang", "duration": 2.0, "at_records": [500]],
///     ["operator": "count", "inject": "slow", "duration": 0.001, "probability": 0.01, "seed": 7, "times": 100],
///     ["operator": "count", "inject": "crash_process", "at_records": [123_456]],
///     ["operator": "enrich", "instance": 1, "inject": "throw", "every_records": 50],
/// ]
/// ```
/// Records are counted per operator instance, from 0, in the order the instance receives them;
/// each (rule, record) fires at most once per process, so a retried record goes through.
/// `instance` limits a rule to one instance of the operator (a replica that keeps failing, for
/// ``SupervisionPolicy/failover(_:)``); without it the rule applies to each instance.
public struct FaultInjection: Sendable, Hashable {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        public let name: String
        /// The operator throws ``InjectedFault`` on the record (its supervision applies).
        public static let `throw` = Kind(name: "throw")
        /// The operator stops for `duration` (on the job's clock) before the record.
        public static let hang = Kind(name: "hang")
        /// Each selected record costs `duration` more (on the job's clock).
        public static let slow = Kind(name: "slow")
        /// The process ends at once (SIGKILL), as a crash would; the watchdog restarts it.
        public static let crashProcess = Kind(name: "crash_process")
        public static let all: [Kind] = [.throw, .hang, .slow, .crashProcess]
        public var description: String { name }
    }

    public enum Trigger: Sendable, Hashable {
        /// Records N-1, 2N-1, 3N-1, …
        case everyRecords(Int)
        /// These record positions.
        case atRecords(Set<Int>)
        /// Each record with this probability, from a generator seeded with `seed`.
        case probability(Double, seed: UInt64)
    }

    public var operatorName: String
    public var kind: Kind
    public var trigger: Trigger
    /// For `hang` and `slow`.
    public var duration: Duration?
    /// At most this many injections (all of them when `nil`).
    public var times: Int?
    /// The one instance the rule applies to (each instance when `nil`).
    public var instance: Int?

    public init(operatorName: String, kind: Kind, trigger: Trigger, duration: Duration? = nil, times: Int? = nil, instance: Int? = nil) {
        self.operatorName = operatorName
        self.instance = instance
        self.kind = kind
        self.trigger = trigger
        self.duration = duration
        self.times = times
    }
}

/// The error an injected `throw` fault raises.
public struct InjectedFault: Error, Sendable, Equatable, CustomStringConvertible {
    public let operatorName: String
    public let record: Int
    public var description: String { "injected fault in '\(operatorName)' on record #\(record)" }
}
