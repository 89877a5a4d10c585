import Tributary

/// SAGE's example strategy as a registered one: when an instance fails, its siblings take its
/// input while it restarts after `restart_delay` seconds; an instance that failed more than
/// `max_failures` times in all hands the failure to the job.
///
/// `failsOver` is what the registry needs to know before the job runs: the plan then gives
/// every stateless operator with more than one instance round-robin input, so that its records
/// can go around a failed instance. Operators after `keyBy` (whose records only the key's
/// instance can serve) restart in place instead.
struct ReplicaTakeoverStrategy: FaultHandler {
    let restartDelay: Duration
    let maxFailures: Int

    var failsOver: Bool { true }

    init(options: [String: ConfigValue]) throws {
        switch options["restart_delay"] {
        case nil: restartDelay = .milliseconds(50)
        case let value? where (value.numberValue ?? -1) >= 0: restartDelay = .seconds(value.numberValue ?? 0)
        case let other?:
            throw ConfigurationError(
                code: .outOfRange, keyPath: "fault_tolerance.restart_delay", given: other.description, allowed: "a number of seconds, at least 0")
        }
        switch options["max_failures"] {
        case nil: maxFailures = 100
        case .int(let value)? where value >= 0: maxFailures = value
        case let other?:
            throw ConfigurationError(code: .outOfRange, keyPath: "fault_tolerance.max_failures", given: other.description, allowed: "an integer of at least 0")
        }
        for key in options.keys where !["restart_delay", "max_failures"].contains(key) {
            throw ConfigurationError(
                code: .unknownKey, keyPath: "fault_tolerance.\(key)", given: options[key]?.description,
                allowed: "the keys of replica_takeover: restart_delay, max_failures")
        }
    }

    func handle(_ failure: FailureInfo) async -> FaultHandlerDecision {
        let failures = failure.history.filter {
            $0.operatorName == failure.failure.operatorName && $0.instance == failure.failure.instance
        }.count
        return failures <= maxFailures ? .failover(restartAfter: restartDelay) : .escalate
    }
}
