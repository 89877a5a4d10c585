import Foundation
import Tributary

/// `tributary jobs list`, `tributary job show <id>`, `tributary events <id> [--follow]`.
enum JobCommands {
    /// A job as `--json` prints it: its summary and whether it runs now.
    struct Listing: Encodable {
        let status: String
        let job: JobSummary
    }

    static func printJSON<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return }
        print(String(decoding: data, as: UTF8.self))
    }

    static func list(workDirectory: String, json: Bool) {
        let jobs = JobFolder.list(workDirectory: workDirectory)
        if json {
            printJSON(jobs.map { Listing(status: JobFolder.liveness(jobID: $0.jobID, workDirectory: workDirectory).description, job: $0) })
            return
        }
        guard !jobs.isEmpty else {
            print("no jobs in \(workDirectory) (set --work-dir to the job's work_dir)")
            return
        }
        var rows = [["JOB ID", "NAME", "STATUS", "STARTED", "WALL TIME", "RESTARTS", "DEAD LETTERS"]]
        for job in jobs {
            rows.append([
                job.jobID, job.name, JobFolder.liveness(jobID: job.jobID, workDirectory: workDirectory).description, job.startedAt, job.wallTimeSeconds.map(formatSeconds) ?? "-",
                String(job.restarts), String(job.deadLetters),
            ])
        }
        printTable(rows)
    }

    /// `tributary jobs prune`: applies `retention` by hand and lists what it removes (with
    /// `dryRun`, what it would remove). Returns how many folders it removed or would remove.
    @discardableResult
    static func prune(workDirectory: String, retention: RetentionConfiguration, dryRun: Bool, json: Bool) -> Int {
        let planned = JobRetention.plan(workDirectory: workDirectory, retention: retention)
        let done = dryRun ? planned : JobRetention.apply(planned, workDirectory: workDirectory)
        if json {
            printJSON(done.map { ["job_id": $0.jobID, "path": $0.path, "reason": $0.reason] })
            return done.count
        }
        let verb = dryRun ? "would remove" : "removed"
        for removal in done { print("\(verb) \(removal)") }
        print("\(verb) \(done.count) folders (policy \(retention.policy.rawValue)\(retention.maxDays.map { ", max_days \($0)" } ?? ""))")
        return done.count
    }

    /// The retention of the newest job in `workDirectory` that configured one.
    static func configuredRetention(workDirectory: String) -> RetentionConfiguration? {
        for job in JobFolder.list(workDirectory: workDirectory).reversed() {
            guard let configuration = try? EnvironmentConfiguration(job.config) else { continue }
            if configuration.retention != RetentionConfiguration() { return configuration.retention }
        }
        return nil
    }

    static func show(jobID: String, workDirectory: String, json: Bool) throws {
        let job = try JobFolder.summary(jobID: jobID, workDirectory: workDirectory)
        if json {
            printJSON(Listing(status: JobFolder.liveness(jobID: jobID, workDirectory: workDirectory).description, job: job))
            return
        }
        print("job        \(job.jobID)")
        print("name       \(job.name)")
        print("status     \(JobFolder.liveness(jobID: jobID, workDirectory: workDirectory))")
        print("started    \(job.startedAt)")
        print("ended      \(job.endedAt ?? "-")")
        print("wall time  \(job.wallTimeSeconds.map(formatSeconds) ?? "-")")
        if case .object(let fault)? = job.config["fault_tolerance"] {
            let strategy = fault["strategy"].map { "\($0)" } ?? "?"
            let restart = fault["restart_strategy"].map { "\($0)" } ?? "?"
            print("fault tolerance  strategy \(strategy), restart_strategy \(restart)")
        }
        print("restarts \(job.restarts), recoveries \(job.recoveries), dead letters \(job.deadLetters)")
        print("")
        var rows = [["OPERATOR", "KIND", "×", "RECORDS IN", "RECORDS OUT"]]
        for op in job.operators {
            rows.append([op.name, op.kind, String(op.parallelism), String(op.recordsIn), String(op.recordsOut)])
        }
        printTable(rows, rightAligned: [2, 3, 4])
        if job.operators.contains(where: { $0.placement != nil }) {
            print("")
            print("plan (where each operator runs, and why):")
            for op in job.operators {
                if let placement = op.placement { print("  \(op.name): \(placement)") }
            }
        }
        if let failure = job.failure {
            print("")
            print("failed in '\(failure.operatorName)'\(failure.recordIndex.map { " on record #\($0)" } ?? "")\(failure.record.map { " (\($0))" } ?? ""): \(failure.error)")
            if job.failureHistory.count > 1 {
                print("failure history:")
                for entry in job.failureHistory {
                    print("  \(entry.time) \(entry.operatorName)\(entry.recordIndex.map { " #\($0)" } ?? ""): \(entry.error)")
                }
            }
        }
        if case .object(let fault)? = job.config["fault_tolerance"], case .string(let directory)? = fault["checkpoint_dir"] {
            // The disk, not the summary, says which checkpoint a resume would use: the summary
            // of a process that died is as old as its last write.
            let entries = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: directory)
            let valid = entries.first { $0.isValid }
            let damaged = entries.filter { !$0.isValid }.count
            print("checkpoint \(valid.map { "chk-\($0.id) (verified)" } ?? "none usable")\(damaged > 0 ? ", \(damaged) not usable (tributary checkpoints verify)" : "")")
        }
        print("")
        print("resume: \(job.resume)")
    }

    /// Prints the job's events for people (`events.log`), or with `json` as JSON lines
    /// (`events.jsonl`); with `follow`, keeps printing new ones until the job ends.
    static func events(jobID: String, workDirectory: String, follow: Bool, json: Bool) async throws {
        let files = JobFolder.eventFiles(jobID: jobID, workDirectory: workDirectory)
        let path = json ? files.json : files.log
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw JobFolderError(path: path, reason: "no event log here (is the job id right, and the work directory?)")
        }
        defer { try? handle.close() }
        var pending = ""
        while true {
            let data = handle.readDataToEndOfFile()
            pending += String(decoding: data, as: UTF8.self)
            var ended = false
            while let newline = pending.firstIndex(of: "\n") {
                let line = String(pending[..<newline])
                pending.removeSubrange(...newline)
                print(line)
                let endings = ["JOB_COMPLETE", "JOB_FAILED", "JOB_CANCELLED", "JOB_STOPPED"]
                if endings.contains(where: { line.contains(json ? "\"event\":\"\($0)\"" : " \($0) ") }) { ended = true }
            }
            if !follow || ended { return }
            // A process that died (kill -9) never writes its last event: stop following once
            // nobody owns the job and nothing new arrived.
            if data.isEmpty, case .running = JobFolder.liveness(jobID: jobID, workDirectory: workDirectory) {} else if data.isEmpty {
                print("(the job's process is gone: \(JobFolder.liveness(jobID: jobID, workDirectory: workDirectory)))")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }

    static func printTable(_ rows: [[String]], rightAligned: Set<Int> = []) {
        guard let header = rows.first else { return }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                rightAligned.contains(column)
                    ? String(repeating: " ", count: widths[column] - cell.count) + cell
                    : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }
}
