/// How an operator (or, with checkpoints, the job) is restarted after a failure: how long to
/// wait before each attempt and when to give up and escalate.
///
/// A struct with static constructors rather than an enum, so strategies can be added without
/// breaking code that switches over them.
///
/// - `fixed`: the same delay before every attempt, at most `maxAttempts` attempts.
/// - `exponential`: the delay before attempt k is `initialDelay × multiplier^(k-1)` capped at
///   `maxDelay`, multiplied by a random factor in `[1 − jitter, 1 + jitter]` and clamped again to
///   `[initialDelay, maxDelay]`; `resetAfter` without a failure starts the sequence over.
/// - `failureRate`: a failure escalates when it is the (maxFailures+1)-th within the last
///   `interval` (a sliding window, as Erlang/OTP's intensity and period); otherwise it restarts
///   after `delay`.
///
/// The constructors accept any values; one out of range (a negative delay, a multiplier below
/// 1, …) is reported where the strategy is used — `submit()` throws a ``PipelineError``, a
/// `LocalEnvironment` or ``ProcessWatchdog/run(control:report:)`` a ``ConfigurationError`` — naming the
/// parameter and what is allowed, instead of stopping the process.
public struct RestartStrategy: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        case fixed(delay: Duration, maxAttempts: Int)
        case exponential(
            initialDelay: Duration, maxDelay: Duration, multiplier: Double, maxAttempts: Int, jitter: Double,
            resetAfter: Duration)
        case failureRate(maxFailures: Int, interval: Duration, delay: Duration)
    }

    let kind: Kind

    /// The same `delay` before each attempt; the failure escalates after `maxAttempts` attempts.
    public static func fixed(delay: Duration = .seconds(5), maxAttempts: Int = 3) -> RestartStrategy {
        RestartStrategy(kind: .fixed(delay: delay, maxAttempts: maxAttempts))
    }

    /// Exponential backoff with optional jitter; `resetAfter` defaults to `maxDelay × 2`.
    public static func exponential(
        initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60), multiplier: Double = 2,
        maxAttempts: Int = 5, jitter: Double = 0, resetAfter: Duration? = nil
    ) -> RestartStrategy {
        RestartStrategy(
            kind: .exponential(
                initialDelay: initialDelay, maxDelay: maxDelay, multiplier: multiplier, maxAttempts: maxAttempts,
                jitter: jitter, resetAfter: resetAfter ?? maxDelay * 2))
    }

    /// Restart after `delay` unless this failure is the (maxFailures+1)-th within `interval`.
    public static func failureRate(
        maxFailures: Int = 3, interval: Duration = .seconds(60), delay: Duration = .seconds(5)
    ) -> RestartStrategy {
        RestartStrategy(kind: .failureRate(maxFailures: maxFailures, interval: interval, delay: delay))
    }

    /// The first parameter out of range, if any: its name, the value given and what is allowed.
    var problem: (parameter: String, given: String, allowed: String)? {
        switch kind {
        case .fixed(let delay, let maxAttempts):
            if delay < .zero { return ("RestartStrategy.fixed(delay:)", "\(delay.seconds) s", "0 s or more") }
            if maxAttempts < 0 { return ("RestartStrategy.fixed(maxAttempts:)", "\(maxAttempts)", "0 or more") }
        case .exponential(let initialDelay, let maxDelay, let multiplier, let maxAttempts, let jitter, let resetAfter):
            if initialDelay < .zero { return ("RestartStrategy.exponential(initialDelay:)", "\(initialDelay.seconds) s", "0 s or more") }
            if maxDelay < initialDelay {
                return ("RestartStrategy.exponential(maxDelay:)", "\(maxDelay.seconds) s", "at least initialDelay (\(initialDelay.seconds) s)")
            }
            if !(multiplier >= 1 && multiplier.isFinite) {
                return ("RestartStrategy.exponential(multiplier:)", "\(multiplier)", "a finite number of at least 1")
            }
            if maxAttempts < 0 { return ("RestartStrategy.exponential(maxAttempts:)", "\(maxAttempts)", "0 or more") }
            if !(0...1).contains(jitter) { return ("RestartStrategy.exponential(jitter:)", "\(jitter)", "0 to 1") }
            if resetAfter <= .zero { return ("RestartStrategy.exponential(resetAfter:)", "\(resetAfter.seconds) s", "more than 0 s") }
        case .failureRate(let maxFailures, let interval, let delay):
            if maxFailures < 0 { return ("RestartStrategy.failureRate(maxFailures:)", "\(maxFailures)", "0 or more") }
            if interval <= .zero { return ("RestartStrategy.failureRate(interval:)", "\(interval.seconds) s", "more than 0 s") }
            if delay < .zero { return ("RestartStrategy.failureRate(delay:)", "\(delay.seconds) s", "0 s or more") }
        }
        return nil
    }

    /// The problem as a configuration error at `keyPath`.
    func configurationError(at keyPath: String) -> ConfigurationError? {
        problem.map { ConfigurationError(code: .outOfRange, keyPath: "\(keyPath) \($0.parameter)", given: $0.given, allowed: $0.allowed) }
    }

    /// The same delays with no limit on attempts (for pacing job-level recoveries).
    var withoutLimit: RestartStrategy {
        switch kind {
        case .fixed(let delay, _):
            return RestartStrategy(kind: .fixed(delay: delay, maxAttempts: .max))
        case .exponential(let initialDelay, let maxDelay, let multiplier, _, let jitter, let resetAfter):
            return RestartStrategy(kind: .exponential(initialDelay: initialDelay, maxDelay: maxDelay, multiplier: multiplier, maxAttempts: .max, jitter: jitter, resetAfter: resetAfter))
        case .failureRate(_, let interval, let delay):
            return RestartStrategy(kind: .failureRate(maxFailures: .max, interval: interval, delay: delay))
        }
    }

    public var description: String {
        switch kind {
        case .fixed(let delay, let maxAttempts):
            "fixed(delay: \(delay.seconds)s, maxAttempts: \(maxAttempts))"
        case .exponential(let initialDelay, let maxDelay, let multiplier, let maxAttempts, let jitter, let resetAfter):
            "exponential(initialDelay: \(initialDelay.seconds)s, maxDelay: \(maxDelay.seconds)s, multiplier: \(multiplier), maxAttempts: \(maxAttempts), jitter: \(jitter), resetAfter: \(resetAfter.seconds)s)"
        case .failureRate(let maxFailures, let interval, let delay):
            "failureRate(maxFailures: \(maxFailures), interval: \(interval.seconds)s, delay: \(delay.seconds)s)"
        }
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
