import Foundation

/// The contents of `job_summary.json`: what a job is, how it ended, and how to resume it.
struct JobSummary: Codable, Sendable {
    struct OperatorCounters: Codable, Sendable {
        var name: String
        var kind: String
        var parallelism: Int
        var recordsIn: Int
        var recordsOut: Int

        enum CodingKeys: String, CodingKey {
            case name, kind, parallelism
            case recordsIn = "records_in"
            case recordsOut = "records_out"
        }
    }

    struct Failure: Codable, Sendable {
        var operatorName: String
        var instance: Int
        var recordIndex: Int?
        var record: String?
        var error: String
        var time: String

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

    var name: String
    var jobID: String
    var status: String
    var startedAt: String
    var endedAt: String?
    var wallTimeSeconds: Double?
    var config: [String: ConfigValue]
    var operators: [OperatorCounters]
    var restarts: Int
    var recoveries: Int
    var deadLetters: Int
    var failure: Failure?
    var failureHistory: [Failure]
    var lastCheckpoint: Int?
    /// The call that resumes this job.
    var resume: String

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
    }
}
