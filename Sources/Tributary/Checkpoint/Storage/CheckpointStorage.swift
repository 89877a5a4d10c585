/// Where a job's checkpoints live: the seam between the coordinator (what to write, when) and
/// the medium (a local directory today, an object store later).
///
/// A checkpoint exists once its manifest is written: ``list()`` shows every folder, but
/// ``load(_:jobID:)`` refuses one without a manifest, so a crash between parts leaves nothing a
/// restore would trust. An implementation must make ``writeManifest(_:)`` atomic and check everything it
/// reads back in ``load(_:jobID:)`` (sizes, checksums, the manifest's own id and job).
protocol CheckpointStorage: Sendable {
    /// Writes one instance's state file of checkpoint `id` durably.
    /// - Returns: the manifest entry that names and checks it.
    func writePart(checkpoint id: Int64, fileName: String, bytes: [UInt8]) throws -> CheckpointManifest.File

    /// Reads back the state file `file` names and checks its size and checksum
    /// (`verify_writes`).
    /// - Throws: ``CheckpointInvalid`` saying what does not match.
    func verifyPart(checkpoint id: Int64, file: CheckpointManifest.File) throws

    /// Writes the manifest atomically; the checkpoint is complete once this returns.
    func writeManifest(_ manifest: CheckpointManifest) throws

    /// The ids of every checkpoint present (complete or not), newest first.
    func list() -> [Int64]

    /// The manifest of checkpoint `id`, unverified (for listing and pruning).
    func manifest(_ id: Int64) throws -> CheckpointManifest

    /// Loads checkpoint `id`, verifying every file and that the manifest belongs to `jobID`
    /// and to this id.
    /// - Throws: ``CheckpointInvalid`` saying what is wrong.
    func load(_ id: Int64, jobID: String) throws -> RestoredCheckpoint

    /// Removes checkpoint `id` and everything in it.
    func remove(_ id: Int64)

    /// Takes the exclusive lock of this job's checkpoints for the life of the returned lock.
    /// - Throws: ``JobLockedError`` naming the process that holds it.
    func lock(jobID: String) throws -> JobLock
}

/// A verified checkpoint: its id, manifest, and the state parts by operator name, then instance.
struct RestoredCheckpoint: Sendable {
    let id: Int64
    let manifest: CheckpointManifest
    let parts: [String: [Int: [UInt8]]]

    /// The operators that have state in this checkpoint: the manifest's list, or for a
    /// manifest written before it had one, the operators its parts name.
    var operators: Set<String> {
        if let operators = manifest.operators { return Set(operators) }
        return Set(parts.keys.map { $0.hasSuffix(Chain.ordinalSuffix) ? String($0.dropLast(Chain.ordinalSuffix.count)) : $0 })
    }
}
