import Foundation

/// Reads the job folders under a work directory (`work_dir/<job_id>/`), for tools such as
/// `tributary jobs list`.
public enum JobFolder {
    /// The summaries of every job folder under `workDirectory`, oldest first. Folders without a
    /// readable `job_summary.json` are left out.
    public static func list(workDirectory: String) -> [JobSummary] {
        let root = URL(fileURLWithPath: workDirectory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.compactMap { try? summary(jobID: $0, workDirectory: workDirectory) }
            .sorted { ($0.startedAt, $0.jobID) < ($1.startedAt, $1.jobID) }
    }

    /// The summary of one job.
    /// - Throws: ``JobFolderError`` naming the file when it is missing or unreadable.
    public static func summary(jobID: String, workDirectory: String) throws -> JobSummary {
        let url = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID).appendingPathComponent("job_summary.json")
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw JobFolderError(path: url.path, reason: "no job summary here (is the job id right, and the work directory?)")
        }
        do {
            return try JSONDecoder().decode(JobSummary.self, from: data)
        } catch {
            throw JobFolderError(path: url.path, reason: "the summary is not valid JSON of a job summary (\(error))")
        }
    }

    /// Whether a job is running now, ended, or crashed: a summary that still says "running"
    /// while no process holds the job's lock was left by a process that died (`kill -9`, a
    /// trap, a power cut).
    public static func liveness(jobID: String, workDirectory: String) -> JobLiveness {
        let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID)
        let lock = JobLock.isHeld(folder: folder)
        if lock.held { return .running(pid: lock.pid) }
        guard let summary = try? summary(jobID: jobID, workDirectory: workDirectory) else { return .unknown }
        guard summary.status == "running" else { return .ended(summary.status) }
        var checkpointDirectory = FaultToleranceConfiguration().checkpointDirectory
        if case .object(let fault)? = summary.config["fault_tolerance"], case .string(let directory)? = fault["checkpoint_dir"] {
            checkpointDirectory = directory
        }
        let newest = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: checkpointDirectory).first { $0.isValid }
        return .crashed(resumableFrom: newest?.id)
    }

    /// The path of a job's `events.jsonl` and `events.log`.
    public static func eventFiles(jobID: String, workDirectory: String) -> (json: String, log: String) {
        let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID)
        return (folder.appendingPathComponent("events.jsonl").path, folder.appendingPathComponent("events.log").path)
    }

    /// Parses the lines of an `events.jsonl`; a line that does not parse (a line being written
    /// when the process died) is skipped.
    public static func parseEvents(_ text: String) -> [JobEvent] {
        let decoder = JobEvent.decoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(JobEvent.self, from: Data($0.utf8)) }
    }
}

/// Whether a job's process is alive, as ``JobFolder/liveness(jobID:workDirectory:)`` finds it.
public enum JobLiveness: Sendable, Equatable, CustomStringConvertible {
    /// A process holds the job's lock.
    case running(pid: Int32?)
    /// The job ended with this status (`completed`, `failed`, `cancelled`, `stopped`).
    case ended(String)
    /// The summary says running but no process owns the job: its process died. Submitting the
    /// job id again resumes it from this checkpoint (`nil`: from the start).
    case crashed(resumableFrom: Int64?)
    /// No readable summary.
    case unknown

    public var description: String {
        switch self {
        case .running(let pid): "running (pid \(pid.map(String.init) ?? "?"))"
        case .ended(let status): status
        case .crashed(let id): "crashed — resumable from \(id.map { "chk-\($0)" } ?? "the start")"
        case .unknown: "unknown"
        }
    }
}
