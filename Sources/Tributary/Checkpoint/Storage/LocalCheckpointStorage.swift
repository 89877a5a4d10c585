import Foundation

/// Checkpoints in a local directory: `checkpoint_dir/<job_id>/chk-<n>/` with one
/// `<operator>-<instance>.state` file per instance and the `_metadata` manifest, each written
/// to a temporary name, synced and renamed (``DurableFile``).
struct LocalCheckpointStorage: CheckpointStorage {
    let root: URL

    init(checkpointDirectory: String, jobID: String) {
        root = URL(fileURLWithPath: checkpointDirectory).appendingPathComponent(jobID)
    }

    func writePart(checkpoint id: Int64, fileName: String, bytes: [UInt8]) throws -> CheckpointManifest.File {
        let folder = CheckpointFiles.folder(root, id: id)
        try DurableFile.write(Data(bytes), to: folder.appendingPathComponent(fileName))
        return .init(name: fileName, bytes: bytes.count, crc32: CRC32.checksum(bytes))
    }

    func verifyPart(checkpoint id: Int64, file: CheckpointManifest.File) throws {
        let url = CheckpointFiles.folder(root, id: id).appendingPathComponent(file.name)
        guard let data = try? Data(contentsOf: url) else {
            throw CheckpointInvalid(id: id, reason: "\(file.name) cannot be read back after it was written")
        }
        guard data.count == file.bytes else {
            throw CheckpointInvalid(id: id, reason: "\(file.name) read back has \(data.count) bytes, \(file.bytes) were written")
        }
        guard CRC32.checksum([UInt8](data)) == file.crc32 else {
            throw CheckpointInvalid(id: id, reason: "\(file.name) read back does not match the checksum of what was written")
        }
    }

    func writeManifest(_ manifest: CheckpointManifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let folder = CheckpointFiles.folder(root, id: manifest.checkpointID)
        try DurableFile.write(try encoder.encode(manifest), to: folder.appendingPathComponent("_metadata"))
    }

    func list() -> [Int64] { CheckpointFiles.ids(in: root) }

    func manifest(_ id: Int64) throws -> CheckpointManifest {
        try CheckpointFiles.readManifest(CheckpointFiles.folder(root, id: id))
    }

    func load(_ id: Int64, jobID: String) throws -> RestoredCheckpoint {
        let (restored, manifest) = try CheckpointFiles.load(root, id: id, jobID: jobID)
        return RestoredCheckpoint(id: id, manifest: manifest, parts: restored.parts)
    }

    func remove(_ id: Int64) {
        try? FileManager.default.removeItem(at: CheckpointFiles.folder(root, id: id))
    }

    func lock(jobID: String) throws -> JobLock {
        try JobLock(folder: root, jobID: jobID)
    }
}
