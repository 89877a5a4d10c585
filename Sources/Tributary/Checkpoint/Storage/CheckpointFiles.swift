import Foundation

/// The on-disk form of checkpoints: `checkpoint_dir/<job_id>/chk-<n>/` with one
/// `<operator>-<instance>.state` file per instance and a `_metadata` manifest written last,
/// atomically. Every state file ends in a CRC-32 that the manifest repeats; a checkpoint whose
/// manifest is missing or unreadable, or any of whose files is missing, truncated or does not
/// match its checksum, is not used.
enum CheckpointFiles {
    static let magic: [UInt8] = Array("TRB1".utf8)

    typealias Manifest = CheckpointManifest

    /// A verified checkpoint: its id and the state parts by operator name, then instance.
    struct Restored: Sendable {
        let id: Int64
        let parts: [String: [Int: [UInt8]]]
    }

    /// The largest checkpoint id a job uses; a folder with a larger number is not one of its
    /// checkpoints (its successor's id would overflow).
    static let maxID: Int64 = 1 << 53

    static func folder(_ root: URL, id: Int64) -> URL { root.appendingPathComponent("chk-\(id)") }

    /// Encodes one instance's parts: magic, count, (name, bytes)*, CRC-32 of everything before it.
    static func encode(parts: [String: [UInt8]]) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.append(contentsOf: magic)
        writer.varint(UInt64(parts.count))
        for (name, bytes) in parts.sorted(by: { $0.key < $1.key }) {
            let utf8 = Array(name.utf8)
            writer.varint(UInt64(utf8.count))
            writer.bytes.append(contentsOf: utf8)
            writer.varint(UInt64(bytes.count))
            writer.bytes.append(contentsOf: bytes)
        }
        let crc = CRC32.checksum(writer.bytes)
        withUnsafeBytes(of: crc.littleEndian) { writer.bytes.append(contentsOf: $0) }
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [String: [UInt8]] {
        guard bytes.count >= magic.count + 4, Array(bytes.prefix(4)) == magic else {
            throw StateDecodingError(reason: "not a Tributary state file")
        }
        let body = bytes.dropLast(4)
        var stored: UInt32 = 0
        for (index, byte) in bytes.suffix(4).enumerated() { stored |= UInt32(byte) << (8 * UInt32(index)) }
        let computed = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[..<($0.count - 4)])) }
        guard computed == stored else { throw StateDecodingError(reason: "checksum mismatch") }
        var reader = ByteReader(bytes: Array(body))
        reader.offset = magic.count
        let count = try reader.count()
        var parts: [String: [UInt8]] = [:]
        for _ in 0..<count {
            let name = try reader.string()
            let length = try reader.count()
            guard reader.offset + length <= reader.bytes.count else { throw StateDecodingError(reason: "a part runs past the end") }
            parts[name] = Array(reader.bytes[reader.offset..<(reader.offset + length)])
            reader.offset += length
        }
        return parts
    }

    /// The ids of the checkpoint folders under `root`, newest first.
    static func ids(in root: URL) -> [Int64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.compactMap { name -> Int64? in
            guard name.hasPrefix("chk-"), let id = Int64(name.dropFirst(4)), (1...maxID).contains(id) else { return nil }
            return id
        }.sorted(by: >)
    }

    static func readManifest(_ folder: URL) throws -> Manifest {
        let data = try Data(contentsOf: folder.appendingPathComponent("_metadata"))
        return try JSONDecoder().decode(Manifest.self, from: data)
    }

    /// Verifies and loads checkpoint `id`.
    /// - Throws: a description of the first problem found.
    static func load(_ root: URL, id: Int64, jobID: String? = nil) throws -> (Restored, Manifest) {
        let folder = folder(root, id: id)
        let manifest: Manifest
        do {
            manifest = try readManifest(folder)
        } catch {
            throw CheckpointInvalid(id: id, reason: "no readable _metadata (the checkpoint never completed or the manifest is damaged)")
        }
        guard manifest.checkpointID == id else {
            throw CheckpointInvalid(id: id, reason: "its _metadata is the manifest of checkpoint \(manifest.checkpointID) (a folder copied or renamed by hand?)")
        }
        if let jobID, manifest.jobID != jobID {
            throw CheckpointInvalid(id: id, reason: "its _metadata belongs to job '\(manifest.jobID)', not '\(jobID)'")
        }
        var parts: [String: [Int: [UInt8]]] = [:]
        for file in manifest.files {
            guard let data = try? Data(contentsOf: folder.appendingPathComponent(file.name)) else {
                throw CheckpointInvalid(id: id, reason: "\(file.name) is missing")
            }
            let bytes = [UInt8](data)
            guard bytes.count == file.bytes else {
                throw CheckpointInvalid(id: id, reason: "\(file.name) has \(bytes.count) bytes, the manifest says \(file.bytes)")
            }
            guard CRC32.checksum(bytes) == file.crc32 else {
                throw CheckpointInvalid(id: id, reason: "\(file.name) does not match its checksum")
            }
            let decoded: [String: [UInt8]]
            do {
                decoded = try decode(bytes)
            } catch {
                throw CheckpointInvalid(id: id, reason: "\(file.name): \(error)")
            }
            guard let dash = file.name.lastIndex(of: "-"), let instance = Int(file.name[file.name.index(after: dash)...].dropLast(6)) else {
                throw CheckpointInvalid(id: id, reason: "\(file.name) is not named <operator>-<instance>.state")
            }
            for (name, bytes) in decoded { parts[name, default: [:]][instance] = bytes }
        }
        return (Restored(id: id, parts: parts), manifest)
    }
}

/// A checkpoint that cannot be used, and why.
struct CheckpointInvalid: Error, CustomStringConvertible {
    let id: Int64
    let reason: String
    var description: String { "checkpoint \(id) is not usable: \(reason)" }
}
