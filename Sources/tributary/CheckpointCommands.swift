import Foundation
import Tributary

/// `tributary checkpoints <job_id>` and `tributary checkpoints verify <job_id>`.
enum CheckpointCommands {
    /// A checkpoint as `--json` prints it.
    struct Listing: Encodable {
        let id: Int64
        let createdAt: String?
        let manual: Bool
        let files: Int
        let bytes: Int
        let durationSeconds: Double?
        let valid: Bool
        let problem: String?

        init(_ entry: CheckpointCatalog.Entry) {
            (id, createdAt, manual, files, bytes) = (entry.id, entry.createdAt, entry.manual, entry.files, entry.bytes)
            (durationSeconds, valid, problem) = (entry.durationSeconds, entry.isValid, entry.problem)
        }
    }

    /// Prints the job's checkpoints; returns `false` when it has none (the job's checkpoint
    /// folder is not there).
    static func list(jobID: String, checkpointDirectory: String, json: Bool) -> Bool {
        let entries = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: checkpointDirectory)
        if json { JobCommands.printJSON(entries.map(Listing.init)) }
        guard !entries.isEmpty else {
            if !json {
                FileHandle.standardError.write(
                    Data("no checkpoints of job \(jobID) in \(checkpointDirectory) (set --checkpoint-dir to the job's checkpoint_dir)\n".utf8))
            }
            return false
        }
        if json { return true }
        var rows = [["CHECKPOINT", "CREATED", "FILES", "SIZE", "DURATION", "KIND", "STATUS"]]
        for entry in entries {
            rows.append([
                "chk-\(entry.id)", entry.createdAt ?? "-", String(entry.files), formatBytes(entry.bytes),
                entry.durationSeconds.map(JobCommands.formatSeconds) ?? "-", entry.manual ? "manual" : "periodic",
                entry.isValid ? "valid" : "INVALID",
            ])
        }
        JobCommands.printTable(rows, rightAligned: [2, 3, 4])
        return true
    }

    /// Prints each checkpoint's verdict; returns whether all verify, `nil` when there are none.
    static func verify(jobID: String, checkpointDirectory: String) -> Bool? {
        let entries = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: checkpointDirectory)
        guard !entries.isEmpty else {
            FileHandle.standardError.write(Data("no checkpoints of job \(jobID) in \(checkpointDirectory)\n".utf8))
            return nil
        }
        for entry in entries {
            print(entry.isValid ? "chk-\(entry.id): OK (\(entry.files) files, \(formatBytes(entry.bytes)), checksums match)" : "chk-\(entry.id): INVALID — \(entry.problem ?? "")")
        }
        if let newest = entries.first(where: \.isValid) {
            print("a resume would restore chk-\(newest.id)")
        } else {
            print("no valid checkpoint: a resume would start from the beginning")
        }
        return entries.allSatisfy(\.isValid)
    }

    static func formatBytes(_ bytes: Int) -> String {
        bytes < 1024 ? "\(bytes) B" : bytes < 1 << 20 ? String(format: "%.1f KiB", Double(bytes) / 1024) : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
