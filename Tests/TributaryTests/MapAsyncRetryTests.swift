import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `mapAsync(retry:)` retries a failing call alone, with the strategy's backoff on the job
/// clock, while the other calls go on; spent retries fall back to the operator's policy.
@Suite struct MapAsyncRetryTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func env(_ name: String, clock: ManualClock? = nil) throws -> LocalEnvironment {
        let config: [String: ConfigValue] = ["work_dir": .string(directory.path("work")), "batch_size": 64, "fault_tolerance": ["delay": 0]]
        if let clock { return try LocalEnvironment(name, config: config, clock: clock) }
        return try LocalEnvironment(name, config: config)
    }

    /// Every tenth record's first call fails: each is retried once, alone. 550 calls for 500
    /// records, no restart, the output in order (without retries a failure restarts the
    /// operator and repeats the calls of the records after it).
    @Test func aFailingCallIsRetriedAloneAndNoOtherCallRepeats() async throws {
        let env = try env("retry")
        let calls = Counter()
        let failures = FailureInjector(failOn: Set(stride(from: 0, to: 500, by: 10)), times: 1)
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<500))
            .mapAsync(maxConcurrency: 8, retry: .fixed(delay: .zero, maxAttempts: 2)) { value -> Int in
                calls.increment()
                try failures.check(value)
                return value * 3
            }.named("call").sink(sink)
        let result = try await env.submit()
        #expect(sink.values == (0..<500).map { $0 * 3 })
        #expect(failures.thrownCount == 50)
        #expect(calls.current == 550, "one call per record, one more per failure")
        #expect(result.restarts.isEmpty, "no failure reached the operator's policy")
    }

    /// A record whose call keeps failing spends its retries, then the operator's policy
    /// restarts the operator, which retries it afresh: it succeeds on its sixth call.
    @Test func spentRetriesFallBackToTheOperatorsPolicy() async throws {
        let env = try env("spent")
        let tries = Counter()
        let failures = FailureInjector(failOn: [250], times: 5)
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<500))
            .mapAsync(maxConcurrency: 4, retry: .fixed(delay: .zero, maxAttempts: 2)) { value -> Int in
                if value == 250 { tries.increment() }
                try failures.check(value)
                return value + 1
            }.named("call").supervised(.restart(.fixed(delay: .zero, maxAttempts: 3))).sink(sink)
        let result = try await env.submit()
        #expect(sink.values == (0..<500).map { $0 + 1 })
        #expect(result.restarts.count == 1, "three calls failed, then the operator restarted once")
        #expect(tries.current == 6)
    }

    /// Exponential backoff between one call's retries runs on the job clock.
    @Test(.timeLimit(.minutes(3))) func retryDelaysFollowTheStrategyOnTheJobClock() async throws {
        let clock = ManualClock()
        let env = try env("backoff", clock: clock)
        let failures = FailureInjector(failOn: [0], times: 2)
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<20))
            .mapAsync(maxConcurrency: 4, retry: .exponential(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 2, maxAttempts: 3)) {
                value -> Int in
                try failures.check(value)
                return value
            }.sink(sink)
        let job = Task { try await env.submit() }
        #expect(await clock.nextSleep() == .seconds(1))
        clock.advance(by: .seconds(1))
        #expect(await clock.nextSleep() == .seconds(2), "the second retry waits twice as long")
        clock.advance(by: .seconds(2))
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(sink.values == Array(0..<20))
        #expect(result.restarts.isEmpty)
    }

    @Test func aFailureRateIsNotAPerCallRetry() async throws {
        let env = try env("rate")
        env.fromCollection([1]).mapAsync(maxConcurrency: 1, retry: .failureRate(maxFailures: 3, interval: .seconds(60), delay: .zero)) { $0 }
            .sink(CollectSink<Int>())
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.message.contains("mapAsync(retry:): a failure rate limits failures per interval") == true)
    }

    /// A call slower than an exponential strategy's quiet period (`reset_after`) still gets
    /// only `maxAttempts` retries: the quiet period resets an operator's restarts, not a call's.
    @Test(.timeLimit(.minutes(3))) func aSlowCallStillRunsOutOfRetries() async {
        let calls = Counter()
        let retry = RestartStrategy.exponential(initialDelay: .zero, maxDelay: .zero, maxAttempts: 3, resetAfter: .nanoseconds(1))
        let result: Result<Int, any Error> = await callWithRetries(retry, sleep: { _ in }) {
            // Any two failures are further apart than reset_after's nanosecond, as every
            // real call's are further apart than its quiet period.
            calls.increment()
            throw InjectedError()
        }
        #expect(calls.current == 4, "the call and its three retries")
        guard case .failure = result else {
            Issue.record("a call that keeps failing fails")
            return
        }
    }
}
