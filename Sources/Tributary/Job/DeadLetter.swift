import Foundation

/// A record that was skipped after a failure (policy `.resume` or decision `.skipRecord`).
public struct DeadLetter: Sendable, CustomStringConvertible {
    public let operatorName: String
    public let instance: Int
    /// The record's position in the operator instance's input.
    public let recordIndex: Int?
    /// The record, as printed by `String(describing:)`.
    public let record: String
    public let error: any Error
    public let time: Date

    public var description: String {
        "\(operatorName)#\(recordIndex.map(String.init) ?? "?"): \(record) — \(error)"
    }
}

/// One operator-level restart: which operator, which attempt, after which delay, and why.
public struct RestartRecord: Sendable {
    public let operatorName: String
    public let instance: Int
    public let attempt: Int
    /// The delay the restart strategy applied before the fresh instance started.
    public let delay: Duration
    public let failure: OperatorFailure
}

/// One recovery from a failure: its cause, its kind and how long until records flowed again.
public struct Recovery: Sendable {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// One operator instance restarted and retried its record.
        public static let operatorRestart = Kind(name: "operator-restart")
        /// The job restored every operator from a checkpoint.
        public static let checkpointRestore = Kind(name: "checkpoint-restore")
        public var description: String { name }
    }

    public let cause: OperatorFailure
    public let kind: Kind
    /// From the failure (the throw) until the retried record and the rest of its batch were
    /// processed, restart delay included.
    public let latency: Duration
}
