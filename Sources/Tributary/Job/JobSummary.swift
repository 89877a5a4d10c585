import Foundation

/// The contents of `job_summary.json`: what a job is, how it ended, and how to resume it.
public struct JobSummary: Codable, Sendable {
    public struct OperatorCounters: Codable, Sendable {
        public var name: String
        public var kind: String
        public var parallelism: Int
        public var recordsIn: Int
        public var recordsOut: Int
        /// Where the operator runs and why: fused into another operator's instance, or in its
        /// own (a source, after `keyBy`, fan-out, …). Absent in summaries of older versions.
        public var placement: String?

        enum CodingKeys: String, CodingKey {
            case name, kind, parallelism, placement
            case recordsIn = "records_in"
            case recordsOut = "records_out"
        }
    }

    public struct Failure: Codable, Sendable {
        public var operatorName: String
        public var instance: Int
        public var recordIndex: Int?
        public var record: String?
        public var error: String
        public var time: String

        enum CodingKeys: String, CodingKey {
            case operatorName = "operator"
            case instance
            case recordIndex = "record_index"
            case record, error, time
        }

        init(_ failure: OperatorFailure) {
            operatorName = failure.operatorName
            instance = failure.instance
            recordIndex = failure.recordIndex
            record = failure.record
            error = "\(failure.error)"
            time = JobEvent.timestampStyle.format(failure.time)
        }
    }

    public var name: String
    public var jobID: String
    public var status: String
    public var startedAt: String
    public var endedAt: String?
    public var wallTimeSeconds: Double?
    public var config: [String: ConfigValue]
    public var operators: [OperatorCounters]
    public var restarts: Int
    public var recoveries: Int
    public var deadLetters: Int
    public var failure: Failure?
    public var failureHistory: [Failure]
    public var lastCheckpoint: Int?
    /// The call that resumes this job.
    public var resume: String
    /// The absolute path of this job's checkpoints (`checkpoint_dir/<job_id>`), for tools run
    /// from another directory (`nil`: the job takes no checkpoints, or an older summary).
    public var checkpointPath: String?

    enum CodingKeys: String, CodingKey {
        case name
        case jobID = "job_id"
        case status
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case wallTimeSeconds = "wall_time_seconds"
        case config, operators, restarts, recoveries
        case deadLetters = "dead_letters"
        case failure
        case failureHistory = "failure_history"
        case lastCheckpoint = "last_checkpoint"
        case resume
        case checkpointPath = "checkpoint_path"
    }
}
