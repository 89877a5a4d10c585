import Synchronization

/// Supervises every instance of one operator: applies the classifier's decision, then the
/// operator's ``SupervisionPolicy`` and restart pacing, and tells the failing instance what to do.
///
/// One per operator, so the attempts of all its instances count together.
actor OperatorSupervisor {
    enum Decision: Sendable, Equatable {
        /// Wait `delay`, replace the instance with a fresh one, retry the record; with
        /// `failover`, the instance's input goes to its siblings meanwhile (where the plan
        /// gave the operator round-robin input, see ``ReplicaHealth``).
        case retry(attempt: Int, delay: Duration, failover: Bool = false)
        /// Skip the record (it is in the dead letters).
        case skip
        /// The failure escalated; the job fails.
        case fail
    }

    let name: String
    let policy: SupervisionPolicy
    /// A registered custom strategy's handler, which decides instead of `policy`.
    let handler: (any FaultHandler)?
    /// The restart pacing: one for all instances under `.restart`, one per instance under
    /// `.failover` (a replica that keeps failing backs off alone; its siblings' restarts are
    /// not delayed by its history).
    private var pacers: [Int: RestartPacer] = [:]
    private let seed: UInt64?
    private let job: JobSupervisor
    private let clock: JobClock

    init(name: String, policy: SupervisionPolicy, handler: (any FaultHandler)? = nil, seed: UInt64?, job: JobSupervisor, clock: JobClock) {
        self.name = name
        self.policy = policy
        self.handler = handler
        self.job = job
        self.clock = clock
        self.seed = seed
    }

    func handle(_ failure: OperatorFailure) async -> Decision {
        let (info, decision) = await job.record(failure)
        if let open = failure.error as? CircuitOpenError, open.deadLetter {
            await job.skipped(failure, reason: "the circuit breaker is open")
            return .skip
        }
        if failure.error is any UnrecoverableError {
            await job.escalate(failure, reason: "\(type(of: failure.error)) is unrecoverable", fatal: true)
            return .fail
        }
        switch decision.kind {
        case .abort:
            await job.escalate(failure, reason: "the failure classifier aborted the job", fatal: true)
            return .fail
        case .restartJob:
            await job.escalate(failure, reason: "the failure classifier asked for a job restart (a checkpoint restore, with strategy \"checkpoint\")")
            return .fail
        case .skipRecord:
            await job.skipped(failure, reason: "the failure classifier skipped it")
            return .skip
        case .restartOperator:
            return .retry(attempt: info.attempt, delay: .zero)
        case .normal:
            break
        }
        if let handler {
            switch await handler.handle(info).kind {
            case .restart(let delay):
                return .retry(attempt: info.attempt, delay: delay)
            case .failover(let delay):
                return .retry(attempt: info.attempt, delay: delay, failover: true)
            case .skip:
                await job.skipped(failure, reason: "the fault-tolerance strategy skipped it")
                return .skip
            case .escalate:
                await job.escalate(failure, reason: "the fault-tolerance strategy escalated the failure")
                return .fail
            }
        }
        switch policy.kind {
        case .restart(let strategy), .failover(let strategy):
            let key = policy.failsOver ? failure.instance : 0
            var pacer = pacers[key] ?? RestartPacer(strategy: strategy, seed: seed.map { $0 &+ UInt64(key) })
            let decision = pacer.failure(at: clock.now)
            pacers[key] = pacer
            switch decision {
            case .restart(let attempt, let delay):
                return .retry(attempt: attempt, delay: delay, failover: policy.failsOver)
            case .giveUp(_, let reason):
                await job.escalate(failure, reason: "operator '\(name)' reached its restart limit: \(reason)")
                return .fail
            }
        case .resume:
            await job.skipped(failure, reason: "policy .resume")
            return .skip
        case .escalate:
            await job.escalate(failure, reason: "operator '\(name)' escalates every failure (policy .escalate)")
            return .fail
        case .restoreCheckpoint:
            await job.escalate(failure, reason: "operator '\(name)' asks for a checkpoint restore (policy .restoreCheckpoint; without strategy \"checkpoint\" there is none)")
            return .fail
        case .stop:
            await job.escalate(failure, reason: "operator '\(name)' stops the job on failure (policy .stop)", fatal: true)
            return .fail
        }
    }
}

/// What a chain needs to supervise its steps: the supervisor of each operator (by node id),
/// the job supervisor and the clock.
struct SupervisionContext: Sendable {
    let job: JobSupervisor
    let operators: [Int: OperatorSupervisor]
    let clock: JobClock
    /// Set while a checkpoint restore waits for its first processed batch.
    let restoreProbe: RestoreProbe
    /// The job's stop signal: sources end their input early when a stop with a checkpoint
    /// (``LocalEnvironment/stop()``) is requested.
    let control: JobControl
}

/// A flag the first batch processed after a checkpoint restore claims, to time the recovery.
final class RestoreProbe: Sendable {
    private let pending: Atomic<Bool>
    let checkpoint: Int64?

    init(pending: Bool, checkpoint: Int64?) {
        self.pending = Atomic(pending)
        self.checkpoint = checkpoint
    }

    var isPending: Bool { pending.load(ordering: .relaxed) }

    /// True for exactly one caller.
    func claim() -> Bool { pending.exchange(false, ordering: .relaxed) }
}
