/// What one seed's torture run found.
public struct TortureOutcome: Sendable, CustomStringConvertible {
    public var testCase: TortureCase
    /// What differed or went wrong; empty when the seed passed.
    public var problems: [String]
    /// How the run went: statuses of each run, recoveries, checkpoints.
    public var log: [String]

    public var passed: Bool { problems.isEmpty }

    public var description: String {
        var lines = ["seed \(testCase.seed) " + (passed ? "passed" : "FAILED")]
        lines += problems.map { "  " + $0 }
        if !passed {
            lines.append("  runs: " + log.joined(separator: "; "))
            lines += testCase.pipeline.description.split(separator: "\n").map { "  | " + $0 }
            lines += testCase.faults.description.split(separator: "\n").map { "  | " + $0 }
            lines.append("  replay: \(testCase.replayCommand)")
        }
        return lines.joined(separator: "\n")
    }
}
