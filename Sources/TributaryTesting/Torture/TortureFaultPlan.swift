/// The faults one seed injects into a pipeline's run, and how the run is interrupted.
public struct TortureFaultPlan: Sendable, CustomStringConvertible {
    /// A `fault_injection` rule: `kind` ("throw" or "hang") on these per-instance record ordinals.
    public struct InjectionRule: Sendable {
        public var operatorName: String
        public var kind: String
        public var atRecords: [Int]
    }

    /// A closure fault: the stage throws on records of these origins, `times` times each.
    public struct ClosureFault: Sendable {
        public var stageName: String
        public var origins: [Int]
        public var times: Int
    }

    /// What happens to the run from outside, once.
    public enum Interruption: Sendable, Hashable, CustomStringConvertible {
        case none
        /// `env.cancel()` after this many completed checkpoints, then a resume with the same job_id.
        case cancel(afterCheckpoints: Int)
        /// `env.stop()` after this many completed checkpoints, then a resume.
        case stop(afterCheckpoints: Int)
        /// In a child process: SIGKILL from the parent after this many completed checkpoints
        /// (`kills` times in a row), then a resume in a new process.
        case kill(afterCheckpoints: Int, kills: Int)
        /// In a child process: `fault_injection` `crash_process` in `operatorName` on record
        /// `atRecord`, in the first start only; then a resume in a new process.
        case crashProcess(operatorName: String, atRecord: Int)

        public var description: String {
            switch self {
            case .none: "none"
            case .cancel(let n): "cancel after \(n) checkpoint(s), then resume"
            case .stop(let n): "stop after \(n) checkpoint(s), then resume"
            case .kill(let n, let kills): "SIGKILL after \(n) checkpoint(s), \(kills)×, then resume"
            case .crashProcess(let name, let record): "crash_process in \(name) on record #\(record), then resume"
            }
        }

        public var needsChildProcess: Bool {
            switch self {
            case .kill, .crashProcess: true
            default: false
            }
        }
    }

    public var injections: [InjectionRule] = []
    public var closureFaults: [ClosureFault] = []
    /// `fault_tolerance.max_attempts` of the default fixed restart strategy (delay 0).
    public var defaultMaxAttempts = 0
    public var checkpointInterval = 0.002
    public var checkpointTimeout = 600.0
    /// Checkpoints triggered by hand (`env.triggerCheckpoint()`), one after each completed one.
    public var manualCheckpoints = 0
    public var interruption: Interruption = .none
    /// The plan makes the job fail (a `.stop` policy meets a fault): the test checks it fails,
    /// and that what it committed is a per-key prefix of the failure-free output.
    public var expectsFailure = false
    public var batchSize = 16

    public var description: String {
        var lines: [String] = []
        for rule in injections { lines.append("fault_injection: \(rule.kind) in \(rule.operatorName) at records \(rule.atRecords)") }
        for fault in closureFaults {
            // The runner makes one injector per stage, with the stage's largest count: say so
            // where that differs from this fault's own (see TortureRunner.closureFailures).
            let effective = closureFaults.filter { $0.stageName == fault.stageName }.map(\.times).max() ?? fault.times
            let merged = effective == fault.times ? "" : " (fails ×\(effective): one injector per stage, with its largest count)"
            lines.append("closure throws in \(fault.stageName) on origins \(fault.origins) ×\(fault.times)" + merged)
        }
        lines.append(
            "restart max_attempts \(defaultMaxAttempts), checkpoint_interval \(checkpointInterval) s, checkpoint_timeout \(checkpointTimeout) s, "
                + "batch_size \(batchSize), manual checkpoints \(manualCheckpoints)")
        lines.append("interruption: \(interruption)" + (expectsFailure ? "; designed to fail" : ""))
        return lines.joined(separator: "\n")
    }
}
