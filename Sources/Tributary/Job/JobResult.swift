import Foundation

/// What a finished (or failed, or cancelled) job did.
public struct JobResult: Sendable, CustomStringConvertible {
    public enum Status: String, Sendable, Codable {
        /// Every source was exhausted and everything drained into the sinks.
        case completed
        /// A failure could not be recovered from (see ``JobFailedError``).
        case failed
        /// ``LocalEnvironment/cancel()`` stopped the job; output since the last completed
        /// checkpoint was discarded.
        case cancelled
        /// ``LocalEnvironment/stop()`` stopped the job: its sources stopped reading and everything
        /// read was processed (with `strategy: "checkpoint"` also committed by a final checkpoint,
        /// so submitting the job again with its ``JobResult/jobID`` resumes from there).
        case stopped
    }

    /// Records counted at one logical operator, summed over its parallel instances and over
    /// the job's attempts: the work done, so records replayed after a checkpoint restore count
    /// again (what the sinks *committed* is exactly once; these counts are not).
    public struct OperatorMetrics: Sendable, Equatable {
        public let name: String
        /// `source`, `map`, `filter`, `flatMap`, `mapAsync`, `reduce`, `mapWithState`, `union`, `sink`, …
        public let kind: String
        public let parallelism: Int
        /// Records that reached the operator (0 for a source).
        public let recordsIn: Int
        /// Records the operator produced (records read, for a source; 0 for a sink).
        public let recordsOut: Int
        /// For window operators: records left out because they arrived after every window they
        /// belong to had closed (the watermark had passed it plus the allowed lateness).
        public var lateRecordsDropped: Int = 0
    }

    public let jobID: String
    /// The name given to ``LocalEnvironment/init(_:config:)``.
    public let jobName: String
    public let status: Status
    /// One entry per logical operator, in the order they were added to the pipeline.
    public let operators: [OperatorMetrics]
    /// From `submit()` to the end of the job.
    public let wallTime: Duration
    /// Operator-level restarts, in order.
    public let restarts: [RestartRecord]
    /// Recoveries from failures (operator restarts now; checkpoint restores with checkpoints),
    /// each with its latency.
    public let recoveries: [Recovery]
    /// Records skipped after failures (policy `.resume`, decision `.skipRecord`).
    public let deadLetters: [DeadLetter]
    /// Checkpoints completed in this run (with `strategy: "checkpoint"`), in order.
    public let checkpoints: [CheckpointRecord]
    /// Checkpoints that failed or were abandoned.
    public let failedCheckpoints: Int
    /// The job's last metrics sample, taken as it ended (`nil` with `metrics_interval: 0`).
    public internal(set) var metrics: JobMetrics?

    /// The metrics of the operator with this name.
    public subscript(operator name: String) -> OperatorMetrics? {
        operators.first { $0.name == name }
    }

    public var description: String {
        var lines = ["job \(jobID) \(status.rawValue) in \(Self.format(wallTime))"]
        if !restarts.isEmpty || !deadLetters.isEmpty || !recoveries.isEmpty {
            lines.append("  restarts: \(restarts.count), recoveries: \(recoveries.count), dead letters: \(deadLetters.count)")
        }
        if !checkpoints.isEmpty || failedCheckpoints > 0 {
            lines.append("  checkpoints: \(checkpoints.count) completed (last: \(checkpoints.last.map { String($0.id) } ?? "-")), \(failedCheckpoints) failed")
        }
        for metrics in operators {
            lines.append(
                "  \(metrics.name) [\(metrics.kind) ×\(metrics.parallelism)] in: \(metrics.recordsIn) out: \(metrics.recordsOut)")
        }
        return lines.joined(separator: "\n")
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds < 1 ? "\(Int((seconds * 1000).rounded())) ms" : String(format: "%.2f s", seconds)
    }
}
