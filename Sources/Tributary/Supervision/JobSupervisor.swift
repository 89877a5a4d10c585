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
        /// An escalation under `strategy: "checkpoint"`: the job restores its latest checkpoint.
        var recoveryCause: OperatorFailure?
        var deadLetters: [DeadLetter]
        var restarts: [RestartRecord]
        var recoveries: [Recovery]
    }

    let jobID: String
    let events: EventLog
    let classifier: (@Sendable (FailureInfo) -> FailoverDecision)?
    let escalationTarget: FaultToleranceStrategy
    private var state = Snapshot(history: [], cause: nil, recoveryCause: nil, deadLetters: [], restarts: [], recoveries: [])
    /// The failure a checkpoint restore is under way for, and when it happened.
    private var pendingRestore: (failure: OperatorFailure, began: ContinuousClock.Instant)?
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

    /// The failure reached the job. Under `strategy: "checkpoint"` (unless `fatal`) the job
    /// restores its latest checkpoint; otherwise it fails with `failure` as the cause. The first
    /// escalation of an attempt wins; later ones join it.
    func escalate(_ failure: OperatorFailure, reason: String, fatal: Bool = false) {
        guard state.cause == nil, state.recoveryCause == nil else { return }
        let recovers = !fatal && escalationTarget == .checkpoint
        if recovers {
            state.recoveryCause = failure
        } else {
            state.cause = failure
        }
        var event = JobEvent(kind: .failureEscalated, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance, message: "\(reason); \(recovers ? "the job restores its latest checkpoint" : "the job fails")")
        event.error = "\(failure.error)"
        events.emit(event)
    }

    /// The recovery gave up: the failure that asked for it becomes the cause.
    func failRecovery(reason: String) {
        guard let failure = state.recoveryCause else { return }
        state.recoveryCause = nil
        state.cause = failure
        var event = JobEvent(kind: .failureEscalated, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance, message: "\(reason); the job fails")
        event.error = "\(failure.error)"
        events.emit(event)
    }

    /// A new attempt restores a checkpoint for the pending recovery.
    func beginRestore() -> OperatorFailure? {
        guard let failure = state.recoveryCause else { return nil }
        state.recoveryCause = nil
        pendingRestore = (failure, failure.time.timeIntervalSinceNow < 0 ? .now - .seconds(-failure.time.timeIntervalSinceNow) : .now)
        return failure
    }

    /// This process resumes the job from a checkpoint: its recovery runs from `began` (the
    /// start of `submit()`) to the first batch processed.
    func beginResume(began: ContinuousClock.Instant) {
        pendingRestore = (
            OperatorFailure(operatorName: "job", instance: 0, recordIndex: nil, record: nil, error: PreviousRunEnded(jobID: jobID)),
            began
        )
    }

    /// The first batch after a checkpoint restore was processed.
    func restoreCompleted(checkpoint: Int64?) {
        guard let pending = pendingRestore else { return }
        pendingRestore = nil
        let latency = ContinuousClock.now - pending.began
        state.recoveries.append(Recovery(cause: pending.failure, kind: .checkpointRestore, latency: latency))
        var event = JobEvent(kind: .recoveryComplete, jobID: jobID, operatorName: pending.failure.operatorName, message: "recovered from \(checkpoint.map { "checkpoint \($0)" } ?? "the start"): records flow again \(JobSupervisor.format(latency)) after the failure")
        event.latencySeconds = latency.seconds
        events.emit(event)
    }

    /// The dead letters already recorded, so a record skipped again when a restore replays it
    /// is not dead-lettered twice.
    private var deadLetterKeys: Set<String> = []

    func skipped(_ failure: OperatorFailure, reason: String) {
        // Record positions count from the job's start across restores, so a replayed record
        // has the position (and text) it had the first time.
        let key = "\(failure.operatorName)\u{1F}\(failure.instance)\u{1F}\(failure.recordIndex.map(String.init) ?? "?")\u{1F}\(failure.record ?? "")"
        guard failure.recordIndex == nil || deadLetterKeys.insert(key).inserted else { return }
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

    func failoverStarted(_ failure: OperatorFailure, siblings: Int, delay: Duration) {
        var event = JobEvent(
            kind: .failoverStart, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance,
            message: "instance \(failure.instance) is down until its restart (after \(Self.format(delay))) and retried record go through; its \(siblings == 1 ? "sibling takes" : "\(siblings) siblings take") its input meanwhile")
        event.delaySeconds = delay.seconds
        events.emit(event)
    }

    func failoverEnded(_ failure: OperatorFailure) {
        events.emit(
            JobEvent(
                kind: .failoverEnd, jobID: jobID, operatorName: failure.operatorName, instance: failure.instance,
                message: "instance \(failure.instance) is back and takes its share of the input again"))
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

/// The cause of a resume: the job's previous process ended before the job completed (it was
/// killed, it crashed, or it was cancelled).
public struct PreviousRunEnded: Error, Sendable, CustomStringConvertible {
    public let jobID: String
    public var description: String { "the previous run of job \(jobID) ended before the job completed" }
}
