import Foundation

/// One failure of an operator: which operator and instance, the record it was processing (if
/// the failure came from a record), when, and the error it threw.
public struct OperatorFailure: Error, Sendable, CustomStringConvertible {
    /// The name of the operator whose code threw (see `named(_:)`).
    public let operatorName: String
    /// Which of the operator's parallel instances failed.
    public let instance: Int
    /// The record's position in that instance's input: 0 for the first record it received.
    /// `nil` when the failure did not come from a record (opening a source, closing a sink).
    public let recordIndex: Int?
    /// The record, as printed by `String(describing:)` (shortened past 200 characters).
    public let record: String?
    /// What the operator threw.
    public let error: any Error
    public let time: Date

    public init(operatorName: String, instance: Int, recordIndex: Int?, record: String?, error: any Error, time: Date = Date()) {
        self.operatorName = operatorName
        self.instance = instance
        self.recordIndex = recordIndex
        self.record = record
        self.error = error
        self.time = time
    }

    public var description: String {
        var text = "operator '\(operatorName)'"
        if instance > 0 { text += " (instance \(instance))" }
        if let recordIndex {
            text += " failed on record #\(recordIndex)"
            if let record { text += " (\(record))" }
        } else {
            text += " failed"
        }
        return text + ": \(error)"
    }
}
