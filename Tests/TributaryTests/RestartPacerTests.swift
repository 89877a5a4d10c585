import Testing
@testable import Tributary

@Suite struct RestartPacerTests {
    @Test func fixedGivesTheSameDelayUntilItsAttemptsRunOut() {
        var pacer = RestartPacer(strategy: .fixed(delay: .seconds(2), maxAttempts: 2), seed: 1)
        #expect(pacer.failure(at: .seconds(0)) == .restart(attempt: 1, delay: .seconds(2)))
        #expect(pacer.failure(at: .seconds(100)) == .restart(attempt: 2, delay: .seconds(2)))
        guard case .giveUp(let attempt, _) = pacer.failure(at: .seconds(200)) else {
            Issue.record("the third failure exceeds two attempts")
            return
        }
        #expect(attempt == 3)
    }

    @Test func exponentialGrowsByTheMultiplierAndIsCappedAtMaxDelay() {
        var pacer = RestartPacer(
            strategy: .exponential(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 3, maxAttempts: 6), seed: 1)
        let delays = (0..<5).map { index -> Duration? in
            if case .restart(_, let delay) = pacer.failure(at: .seconds(Double(index))) { return delay }
            return nil
        }
        #expect(delays == [.seconds(1), .seconds(3), .seconds(9), .seconds(10), .seconds(10)])
    }

    @Test func exponentialResetsAfterAQuietPeriod() {
        var pacer = RestartPacer(
            strategy: .exponential(initialDelay: .seconds(1), maxDelay: .seconds(8), multiplier: 2, maxAttempts: 3, resetAfter: .seconds(30)),
            seed: 1)
        #expect(pacer.failure(at: .seconds(0)) == .restart(attempt: 1, delay: .seconds(1)))
        #expect(pacer.failure(at: .seconds(5)) == .restart(attempt: 2, delay: .seconds(2)))
        // 30 s without a failure: the sequence starts over, attempts included.
        #expect(pacer.failure(at: .seconds(35)) == .restart(attempt: 1, delay: .seconds(1)))
        #expect(pacer.failure(at: .seconds(36)) == .restart(attempt: 2, delay: .seconds(2)))
        #expect(pacer.failure(at: .seconds(37)) == .restart(attempt: 3, delay: .seconds(4)))
        guard case .giveUp = pacer.failure(at: .seconds(38)) else {
            Issue.record("a fourth failure without a quiet period exceeds three attempts")
            return
        }
    }

    @Test func jitterIsSeededAndClampedToTheDelayRange() {
        func delays(seed: UInt64) -> [Duration] {
            var pacer = RestartPacer(
                strategy: .exponential(initialDelay: .seconds(1), maxDelay: .seconds(4), multiplier: 2, maxAttempts: 10, jitter: 0.5), seed: seed)
            return (0..<8).compactMap { index in
                if case .restart(_, let delay) = pacer.failure(at: .milliseconds(index)) { return delay }
                return nil
            }
        }
        let first = delays(seed: 42)
        #expect(first == delays(seed: 42), "the same seed gives the same delays")
        #expect(first != delays(seed: 43))
        #expect(first.allSatisfy { $0 >= .seconds(1) && $0 <= .seconds(4) })
        #expect(Set(first).count > 2, "jitter varies the delays")
    }

    @Test func failureRateWindowSlides() {
        var pacer = RestartPacer(strategy: .failureRate(maxFailures: 2, interval: .seconds(10), delay: .milliseconds(500)), seed: 1)
        #expect(pacer.failure(at: .seconds(0)) == .restart(attempt: 1, delay: .milliseconds(500)))
        #expect(pacer.failure(at: .seconds(6)) == .restart(attempt: 2, delay: .milliseconds(500)))
        // At 11 s the failure at 0 s has left the window: two in the last 10 s, allowed.
        #expect(pacer.failure(at: .seconds(11)) == .restart(attempt: 3, delay: .milliseconds(500)))
        // At 12 s: 6, 11, 12 are three within 10 s: the (max+1)-th.
        guard case .giveUp(_, let reason) = pacer.failure(at: .seconds(12)) else {
            Issue.record("three failures within the interval exceed the limit of two")
            return
        }
        #expect(reason.contains("3 failures within 10.0 s"))
    }
}
