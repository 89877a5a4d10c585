import Foundation

/// The decisions of a ``RestartStrategy``: given the time of a failure, restart after which
/// delay, or give up. Pure state; the operator's supervisor holds one and supplies the time
/// from the job's clock (so tests drive it with a manual clock).
struct RestartPacer {
    enum Decision: Sendable, Equatable {
        /// Restart; this is attempt `attempt` (1 for the first restart).
        case restart(attempt: Int, delay: Duration)
        /// The strategy's limit is reached.
        case giveUp(attempt: Int, reason: String)
    }

    let strategy: RestartStrategy
    private var attempts = 0
    private var lastFailure: Duration?
    /// Failure times inside the failure-rate window, oldest first.
    private var window: [Duration] = []
    private var random: SeededRandom

    init(strategy: RestartStrategy, seed: UInt64?) {
        self.strategy = strategy
        self.random = SeededRandom(seed: seed ?? UInt64.random(in: .min ... .max))
    }

    /// Records a failure at `now` (time since the job started) and decides.
    mutating func failure(at now: Duration) -> Decision {
        defer { lastFailure = now }
        switch strategy.kind {
        case .fixed(let delay, let maxAttempts):
            attempts += 1
            guard attempts <= maxAttempts else {
                return .giveUp(attempt: attempts, reason: "the fixed restart strategy allows \(maxAttempts) attempts")
            }
            return .restart(attempt: attempts, delay: delay)

        case .exponential(let initialDelay, let maxDelay, let multiplier, let maxAttempts, let jitter, let resetAfter):
            if let lastFailure, now - lastFailure >= resetAfter { attempts = 0 }
            attempts += 1
            guard attempts <= maxAttempts else {
                return .giveUp(attempt: attempts, reason: "the exponential restart strategy allows \(maxAttempts) attempts without a quiet period of \(resetAfter.seconds) s")
            }
            let base = min(initialDelay.seconds * pow(multiplier, Double(attempts - 1)), maxDelay.seconds)
            let factor = jitter > 0 ? random.nextDouble(in: (1 - jitter)...(1 + jitter)) : 1
            let delay = min(max(base * factor, initialDelay.seconds), maxDelay.seconds)
            return .restart(attempt: attempts, delay: .seconds(delay))

        case .failureRate(let maxFailures, let interval, let delay):
            window.removeAll { now - $0 >= interval }
            window.append(now)
            attempts += 1
            guard window.count <= maxFailures else {
                return .giveUp(attempt: attempts, reason: "\(window.count) failures within \(interval.seconds) s exceed the failure-rate limit of \(maxFailures)")
            }
            return .restart(attempt: attempts, delay: delay)
        }
    }
}

/// A small seeded generator (SplitMix64), so a test can assert the exact jittered delays.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextDouble(in range: ClosedRange<Double>) -> Double {
        let unit = Double(next() >> 11) / Double(1 << 53)
        return range.lowerBound + unit * (range.upperBound - range.lowerBound)
    }
}
