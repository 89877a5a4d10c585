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
