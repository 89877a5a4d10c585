import Foundation

import Foundation

/// The root of a job's supervision tree: keeps the failure history, the dead letters, the
/// restarts and recoveries; consults the user's failure classifier; takes escalations.
///
/// An escalation fails the job (job-level recovery from checkpoints arrives with them); the
/// failure that escalated becomes the cause of the ``JobFailedError``.
actor JobSupervisor {
    struct Snapshot: Sendable {
        var history: [OperatorFailure]
        var cause: OperatorFailure?
        var deadLetters: [DeadLetter]
        var restarts: [RestartRecord]
        var recoveries: [Recovery]
    }

    let jobID: String
    let events: EventLog
    let classifier: (@Sendable (FailureInfo) -> FailoverDecision)?
    let escalationTarget: FaultToleranceStrategy
    private var state = Snapshot(history: [], cause: nil, deadLetters: [], restarts: [], recoveries: [])
    private var failuresPerOperator: [String: Int] = [:]

    init(jobID: String, events: EventLog, classifier: (@Sendable (FailureInfo) -> FailoverDecision)?, escalationTarget: FaultToleranceStrategy) {
        self.jobID = jobID
        self.events = events
        self.classifier = classifier
        self.escalationTarget = escalationTarget
    }

    var snapshot: Snapshot { state }

    /// Records a failure, logs it, and asks the classifier what to do.
    func record(_ failure: OperatorFailure) -> (info: FailureInfo, decision: FailoverDecision) {
        state.history.append(failure)
        let attempt = failuresPerOperator[failure.operatorName, default: 0] + 1
        failuresPerOperator[failure.operatorName] = attempt
        var event = JobEvent(kind: .operatorFailed, time: failure.time, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance, message: "\(failure)")
        event.attempt = attempt
        event.recordIndex = failure.recordIndex
        event.record = failure.record
        event.error = "\(failure.error)"
        events.emit(event)
        let info = FailureInfo(failure: failure, attempt: attempt, history: state.history)
        return (info, classifier?(info) ?? .normal)
    }

    /// The job cannot go on: `failure` becomes the cause (the first escalation wins).
    func escalate(_ failure: OperatorFailure, reason: String) {
        guard state.cause == nil else { return }
        state.cause = failure
        var event = JobEvent(kind: .failureEscalated, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance, message: "\(reason); the job fails")
        event.error = "\(failure.error)"
        events.emit(event)
    }

    func skipped(_ failure: OperatorFailure, reason: String) {
        let letter = DeadLetter(
            operatorName: failure.operatorName, instance: failure.instance, recordIndex: failure.recordIndex,
            record: failure.record ?? "", error: failure.error, time: failure.time)
        state.deadLetters.append(letter)
        var event = JobEvent(kind: .recordSkipped, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance, message: "record #\(failure.recordIndex.map(String.init) ?? "?") (\(failure.record ?? "")) sent to dead letters: \(reason)")
        event.recordIndex = failure.recordIndex
        event.record = failure.record
        event.error = "\(failure.error)"
        events.emit(event)
    }

    func restarted(_ record: RestartRecord) {
        state.restarts.append(record)
        var event = JobEvent(kind: .operatorRestarted, jobID: jobID, operatorName: record.operatorName, instance: record.instance, message: "restarted (attempt \(record.attempt), after \(Self.format(record.delay)))")
        event.attempt = record.attempt
        event.delaySeconds = record.delay.seconds
        events.emit(event)
    }

    func recovered(_ recovery: Recovery) {
        state.recoveries.append(recovery)
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        if seconds == 0 { return "no delay" }
        return seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.3g s", seconds)
    }
}
