import Foundation
import Tributary

/// `tributary checkpoints <job_id>` and `tributary checkpoints verify <job_id>`.
enum CheckpointCommands {
    static func list(jobID: String, checkpointDirectory: String) {
        let entries = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: checkpointDirectory)
        guard !entries.isEmpty else {
            print("no checkpoints of job \(jobID) in \(checkpointDirectory) (set --checkpoint-dir to the job's checkpoint_dir)")
            return
        }
        var rows = [["CHECKPOINT", "CREATED", "FILES", "SIZE", "DURATION", "KIND", "STATUS"]]
        for entry in entries {
            rows.append([
                "chk-\(entry.id)", entry.createdAt ?? "-", String(entry.files), formatBytes(entry.bytes),
                entry.durationSeconds.map(JobCommands.formatSeconds) ?? "-", entry.manual ? "manual" : "periodic",
                entry.isValid ? "valid" : "INVALID",
            ])
        }
        JobCommands.printTable(rows, rightAligned: [2, 3, 4])
    }

    /// Prints each checkpoint's verdict; returns whether all verify.
    static func verify(jobID: String, checkpointDirectory: String) -> Bool {
        let entries = CheckpointCatalog.entries(jobID: jobID, checkpointDirectory: checkpointDirectory)
        guard !entries.isEmpty else {
            print("no checkpoints of job \(jobID) in \(checkpointDirectory)")
            return false
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
