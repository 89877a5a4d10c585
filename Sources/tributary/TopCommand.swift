import Foundation
import Tributary

/// `tributary top <job_id>`: a live view of a running job from its `metrics.jsonl` — each
/// operator's rates, queue and backpressure, the checkpoints, restarts and the process —
/// redrawn at every new sample until the job ends; a job that has ended shows its last sample.
enum TopCommand {
    /// Renders one sample as the screen's lines.
    static func render(_ metrics: JobMetrics, status: String) -> [String] {
        var lines = [
            "tributary top — job \(metrics.jobID) — \(status) — \(JobCommands.formatSeconds(metrics.elapsedSeconds)) elapsed",
            String(
                format: "process: cpu %.0f %%, memory %.1f MB, %d open files%@", metrics.process.cpuPercent,
                Double(metrics.process.residentBytes) / 1_048_576, metrics.process.openFiles,
                metrics.process.workDirFreeBytes.map { String(format: ", %.1f GB free in work_dir", Double($0) / 1e9) } ?? ""),
            "checkpoints \(metrics.checkpointsCompleted) (\(metrics.checkpointsFailed) failed), restarts \(metrics.restarts), recoveries \(metrics.recoveries), dead letters \(metrics.deadLetters)",
            "",
        ]
        var rows = [["OPERATOR", "×", "IN/S", "OUT/S", "RECORDS IN", "RECORDS OUT", "QUEUE", "BUSY S", "BACKPRESSURE S"]]
        for op in metrics.operators {
            rows.append([
                op.name, String(op.parallelism), rate(op.recordsInPerSecond), rate(op.recordsOutPerSecond), String(op.recordsIn),
                String(op.recordsOut), op.queueCapacity == 0 ? "-" : String(format: "%.0f %%", op.queueFill * 100),
                String(format: "%.2f", op.busySeconds), String(format: "%.2f", op.backpressureSeconds),
            ])
        }
        lines += table(rows, rightAligned: Set(1...8))
        return lines
    }

    static func rate(_ perSecond: Double) -> String {
        perSecond >= 1e6 ? String(format: "%.1f M", perSecond / 1e6) : perSecond >= 1e3 ? String(format: "%.1f k", perSecond / 1e3) : String(format: "%.0f", perSecond)
    }

    static func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        guard let header = rows.first else { return [] }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                rightAligned.contains(column)
                    ? String(repeating: " ", count: widths[column] - cell.count) + cell
                    : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }

    /// The last complete line of `metrics.jsonl`, decoded.
    static func lastSample(_ path: String) -> JobMetrics? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n").reversed() {
            if let metrics = try? JobMetrics.decoder().decode(JobMetrics.self, from: Data(line.utf8)) { return metrics }
        }
        return nil
    }

    /// Shows the job until it ends; returns the exit status (66: no such job or no metrics).
    static func run(jobID: String, workDirectory: String, once: Bool) async -> Int32 {
        let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID)
        guard FileManager.default.fileExists(atPath: folder.path) else {
            FileHandle.standardError.write(Data("error: no job '\(jobID)' in \(workDirectory) (set --work-dir to the job's work_dir)\n".utf8))
            return ExitStatus.notFound
        }
        let path = folder.appendingPathComponent("metrics.jsonl").path
        let terminal = isatty(STDOUT_FILENO) == 1
        var shown: (sample: JobMetrics, status: String)?
        while true {
            let liveness = JobFolder.liveness(jobID: jobID, workDirectory: workDirectory)
            let running: Bool
            if case .running = liveness { running = true } else { running = false }
            // A new sample, or the same one under a new status (the job just ended).
            if let sample = lastSample(path), shown.map({ $0.sample != sample || $0.status != liveness.description }) ?? true {
                shown = (sample, liveness.description)
                // In a terminal: clear and redraw in place; piped: one screen after another.
                var screen = terminal ? "\u{1B}[H\u{1B}[2J" : ""
                screen += render(sample, status: liveness.description).joined(separator: "\n") + "\n"
                if !terminal { screen += "\n" }
                // Written at once, unbuffered: a redraw must not wait in a buffer.
                FileHandle.standardOutput.write(Data(screen.utf8))
            }
            if !running || once {
                guard shown != nil else {
                    FileHandle.standardError.write(Data("error: job '\(jobID)' has no metrics (metrics_interval 0, or it wrote none yet)\n".utf8))
                    return ExitStatus.notFound
                }
                return ExitStatus.success
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}
