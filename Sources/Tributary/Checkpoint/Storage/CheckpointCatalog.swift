import Foundation

/// Reads a job's checkpoints on disk (`checkpoint_dir/<job_id>/chk-<n>/`), for tools such as
/// `tributary checkpoints`.
public enum CheckpointCatalog {
    public struct Entry: Sendable {
        public let id: Int64
        /// From the manifest; `nil` when the manifest is missing or unreadable.
        public let createdAt: String?
        public let manual: Bool
        public let files: Int
        public let bytes: Int
        public let durationSeconds: Double?
        /// `nil` when every file verifies; otherwise what is wrong.
        public let problem: String?

        public var isValid: Bool { problem == nil }
    }

    /// Every checkpoint folder of the job, newest first, each verified (sizes and checksums).
    public static func entries(jobID: String, checkpointDirectory: String) -> [Entry] {
        let root = URL(fileURLWithPath: checkpointDirectory).appendingPathComponent(jobID)
        return CheckpointFiles.ids(in: root).map { id in
            let manifest = try? CheckpointFiles.readManifest(CheckpointFiles.folder(root, id: id))
            var problem: String?
            do {
                _ = try CheckpointFiles.load(root, id: id, jobID: jobID)
            } catch let invalid as CheckpointInvalid {
                problem = invalid.reason
            } catch {
                problem = "\(error)"
            }
            return Entry(
                id: id, createdAt: manifest?.createdAt, manual: manifest?.manual ?? false, files: manifest?.files.count ?? 0,
                bytes: manifest?.files.reduce(0) { $0 + $1.bytes } ?? 0, durationSeconds: manifest?.durationSeconds, problem: problem)
        }
    }
}
