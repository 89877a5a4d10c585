/// One seed's pipeline and fault plan.
public struct TortureCase: Sendable, CustomStringConvertible {
    public var seed: UInt64
    public var pipeline: TorturePipeline
    public var faults: TortureFaultPlan
    public var size: TortureSize

    public var description: String { "seed \(seed)\n\(pipeline)\n\(faults)" }

    /// The command that runs this case again.
    public var replayCommand: String {
        var command = "swift run tributary torture --seed \(seed)"
        if size == .test { command += " --small" }
        if faults.interruption.needsChildProcess { command += " --kill" }
        return command
    }
}

/// How big generated pipelines are.
public struct TortureSize: Sendable, Hashable {
    /// Records per source.
    public var records: ClosedRange<Int>

    public init(records: ClosedRange<Int>) {
        self.records = records
    }

    /// Small enough for hundreds of seeds in a debug test run.
    public static let test = TortureSize(records: 40...300)
    /// A few hundred to a few thousand records per source, for the command line.
    public static let full = TortureSize(records: 200...3_000)
}
