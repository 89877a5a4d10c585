/// What the job does when an operator fails: the `fault_tolerance.strategy` key.
public struct FaultToleranceStrategy: Sendable, Hashable, CustomStringConvertible {
    /// The name as written in the configuration.
    public let name: String

    /// Barrier-aligned checkpoints; a failure that escalates restores every operator and source
    /// from the latest completed checkpoint (exactly-once).
    public static let checkpoint = FaultToleranceStrategy(name: "checkpoint")
    /// Operator-level restarts under a ``RestartStrategy``; past its limit the job fails.
    public static let restart = FaultToleranceStrategy(name: "restart")
    /// No recovery: the first failure fails the job.
    public static let none = FaultToleranceStrategy(name: "none")

    /// The strategies built into Tributary.
    public static let builtIn: [FaultToleranceStrategy] = [.checkpoint, .restart, .none]

    /// A strategy registered by name (its keys are passed to its factory).
    public static func custom(_ name: String) -> FaultToleranceStrategy { FaultToleranceStrategy(name: name) }

    public var description: String { name }
}
