/// The `_metadata` file of a checkpoint, written last and atomically: what the checkpoint is
/// (job, id, graph), and every file in it with its size and checksum.
struct CheckpointManifest: Codable, Sendable {
    struct File: Codable, Sendable {
        var name: String
        var bytes: Int
        var crc32: UInt32
    }

    var checkpointID: Int64
    var jobID: String
    var createdAt: String
    var manual: Bool
    var files: [File]
    var durationSeconds: Double
    /// Every operator of the graph that wrote the checkpoint (absent in manifests written
    /// before it was recorded).
    var operators: [String]?
    /// ``PhysicalPlan/fingerprint`` of that graph.
    var graphFingerprint: String?

    enum CodingKeys: String, CodingKey {
        case checkpointID = "checkpoint_id"
        case jobID = "job_id"
        case createdAt = "created_at"
        case manual, files, operators
        case durationSeconds = "duration_seconds"
        case graphFingerprint = "graph_fingerprint"
    }
}
