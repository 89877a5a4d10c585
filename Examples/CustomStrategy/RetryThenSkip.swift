import Tributary

/// A fault-tolerance strategy of our own: retry a failing record up to `retries` times, `delay`
/// apart, then skip it into the dead letters and go on. Useful for pipelines where one bad
/// record must not stop the stream, but a transient error deserves a few tries.
///
/// Keys (in `fault_tolerance`): `retries` (integer ≥ 0, default 2), `delay` (seconds, default 0).
struct RetryThenSkip: FaultHandler {
    let retries: Int
    let delay: Duration

    init(options: [String: ConfigValue]) throws {
        switch options["retries"] {
        case nil: retries = 2
        case .int(let value)? where value >= 0: retries = value
        case let other?:
            throw ConfigurationError(code: .outOfRange, keyPath: "fault_tolerance.retries", given: other.description, allowed: "an integer of at least 0")
        }
        switch options["delay"]?.numberValue {
        case nil where options["delay"] == nil: delay = .zero
        case let seconds? where seconds >= 0: delay = .seconds(seconds)
        default:
            throw ConfigurationError(code: .outOfRange, keyPath: "fault_tolerance.delay", given: options["delay"]?.description, allowed: "a number of seconds, at least 0")
        }
        for key in options.keys where !["retries", "delay"].contains(key) {
            throw ConfigurationError(code: .unknownKey, keyPath: "fault_tolerance.\(key)", given: options[key]?.description, allowed: "the keys of retry_then_skip: retries, delay")
        }
    }

    func handle(_ failure: FailureInfo) async -> FaultHandlerDecision {
        // How often this very record has failed in this operator so far (this failure included).
        let sameRecord = failure.history.filter {
            $0.operatorName == failure.operatorName && $0.instance == failure.failure.instance
                && $0.recordIndex == failure.failure.recordIndex
        }.count
        return sameRecord <= retries ? .restart(after: delay) : .skip
    }
}
