import Foundation
import Testing
import Tributary

/// Values out of range given to public constructors are reported as errors that name the value
/// and what is allowed, where the value is used — never a trap that ends the process.
@Suite struct ArgumentValidationTests {
    private func submitError(_ env: LocalEnvironment) async -> PipelineError? {
        await #expect(throws: PipelineError.self) { try await env.submit() }
    }

    @Test(arguments: [
        (RestartStrategy.fixed(delay: .seconds(-1)), "fixed(delay:)"),
        (.fixed(maxAttempts: -2), "fixed(maxAttempts:)"),
        (.exponential(initialDelay: .seconds(-1)), "exponential(initialDelay:)"),
        (.exponential(initialDelay: .seconds(10), maxDelay: .seconds(1)), "exponential(maxDelay:)"),
        (.exponential(multiplier: 0.5), "exponential(multiplier:)"),
        (.exponential(multiplier: .infinity), "exponential(multiplier:)"),
        (.exponential(maxAttempts: -1), "exponential(maxAttempts:)"),
        (.exponential(jitter: 1.5), "exponential(jitter:)"),
        (.exponential(resetAfter: .zero), "exponential(resetAfter:)"),
        (.failureRate(maxFailures: -1), "failureRate(maxFailures:)"),
        (.failureRate(interval: .zero), "failureRate(interval:)"),
        (.failureRate(delay: .seconds(-3)), "failureRate(delay:)"),
    ])
    func aRestartStrategyOutOfRangeFailsSubmitNamingTheParameter(strategy: RestartStrategy, parameter: String) async throws {
        let env = try LocalEnvironment("strategy")
        env.fromCollection([1, 2]).map { $0 }.named("double").supervised(.restart(strategy)).sink(CollectSink<Int>())
        let error = await submitError(env)
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("'double'") == true)
        #expect(error?.message.contains(parameter) == true)
    }

    @Test func aSinkRestartStrategyOutOfRangeFailsSubmit() async throws {
        let env = try LocalEnvironment("sink-strategy")
        env.fromCollection([1]).sink(CollectSink<Int>()).named("out").supervised(.restart(.fixed(delay: .seconds(-1))))
        let error = await submitError(env)
        #expect(error?.message.contains("'out'") == true)
    }

    @Test func theEnvironmentRejectsARestartStrategyOutOfRange() {
        let configuration = EnvironmentConfiguration(faultTolerance: FaultToleranceConfiguration(restartStrategy: .fixed(maxAttempts: -1)))
        #expect {
            _ = try LocalEnvironment("env", configuration: configuration)
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.code == .outOfRange && error?.keyPath.contains("maxAttempts") == true && error?.allowed == "0 or more"
        }
    }

    @Test func theWatchdogRejectsARestartStrategyOutOfRangeBeforeStartingAnything() async {
        let watchdog = ProcessWatchdog(command: ["/bin/true"], restartStrategy: .exponential(jitter: -0.5))
        await #expect(throws: ConfigurationError.self) { _ = try await watchdog.run() }
    }

    @Test(arguments: [CircuitBreaker(failureThreshold: 0), CircuitBreaker(coolDown: .seconds(-1))])
    func aCircuitBreakerOutOfRangeFailsSubmit(breaker: CircuitBreaker) async throws {
        let env = try LocalEnvironment("breaker")
        env.fromCollection([1]).mapAsync(maxConcurrency: 1, circuitBreaker: breaker) { $0 }.sink(CollectSink<Int>())
        let error = await submitError(env)
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("CircuitBreaker(") == true)
    }

    @Test(arguments: [(-1, nil), (10, 0.0), (10, -5.0), (10, Double.nan), (10, Double.infinity)] as [(Int, Double?)])
    func aGeneratorOutOfRangeFailsTheJobNamingTheValue(count: Int, rate: Double?) async throws {
        let env = try LocalEnvironment("generator")
        env.fromSource(GeneratorSource(count: count, ratePerSecond: rate) { $0 }).sink(CollectSink<Int>())
        await #expect {
            _ = try await env.submit()
        } throws: { error in
            guard let failed = error as? JobFailedError, let cause = failed.cause.error as? GeneratorSourceError else { return false }
            return cause.field == (count < 0 ? "count" : "ratePerSecond") && cause.description.contains("must be")
        }
    }

    /// Also under checkpoints: the error is unrecoverable, so no restore is tried.
    @Test(arguments: [(0, false), (-3, true)])
    func anAsyncSequenceSourceWithoutRoomFailsTheJobNamingTheValue(capacity: Int, checkpoints: Bool) async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("async-source", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": checkpoints ? ["strategy": "checkpoint", "checkpoint_dir": .string(directory.path("chk"))] : [:],
        ])
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        continuation.yield(1)
        continuation.finish()
        env.fromSource(AsyncSequenceSource(stream, bufferCapacity: capacity)).sink(CollectSink<Int>())
        await #expect {
            _ = try await env.submit()
        } throws: { error in
            guard let failed = error as? JobFailedError, let cause = failed.cause.error as? AsyncSequenceSourceError else { return false }
            return cause.field == "bufferCapacity" && cause.value == String(capacity) && cause.description.contains("at least 1")
                && failed.result.recoveries.isEmpty
        }
    }

    @Test func aRecoveryBenchmarkNeedsAtLeastOneRun() async throws {
        let benchmark = RecoveryBenchmark(name: "none", faultTolerance: [:], faults: [], runs: 0) { env in
            env.fromCollection([1]).sink(CollectSink<Int>())
            return { [] }
        }
        await #expect {
            _ = try await benchmark.run()
        } throws: { error in
            (error as? ConfigurationError)?.keyPath == "RecoveryBenchmark(runs:)"
        }
    }
}
