import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct FailoverTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct BadCredentials: UnrecoverableError {}

    func run(
        strategy: String = "restart", maxAttempts: Int = 3, failures: FailureInjector<Int>, makeError: (@Sendable () -> any Error)? = nil,
        classify: (@Sendable (FailureInfo) -> FailoverDecision)?
    ) async throws -> (LocalEnvironment, CollectSink<Int>) {
        let env = try LocalEnvironment("failover", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["strategy": .string(strategy), "delay": 0, "max_attempts": .int(maxAttempts)],
        ])
        if let classify { env.onFailure(classify) }
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<20)).map { value -> Int in
            do {
                try failures.check(value)
            } catch {
                if let makeError { throw makeError() }
                throw error
            }
            return value
        }.named("work").sink(sink)
        return (env, sink)
    }

    @Test func normalAppliesThePolicy() async throws {
        let seen = Recorder<Int>()
        let (env, sink) = try await run(failures: FailureInjector(failOn: [5], times: 2)) { info in
            seen.append(info.attempt)
            return .normal
        }
        let result = try await env.submit()
        #expect(sink.values == Array(0..<20))
        #expect(seen.values == [1, 2])
        #expect(result.restarts.count == 2)
    }

    @Test func restartOperatorRestartsEvenPastTheLimitAndUnderStop() async throws {
        let (env, sink) = try await run(strategy: "none", failures: FailureInjector(failOn: [5], times: 6)) { _ in .restartOperator }
        let result = try await env.submit()
        #expect(sink.values == Array(0..<20))
        #expect(result.restarts.count == 6)
    }

    @Test func skipRecordDeadLettersIt() async throws {
        let (env, sink) = try await run(failures: FailureInjector(failOn: [5, 6], times: .max)) { info in
            info.failure.record == "5" ? .skipRecord : .normal
        }
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        // 5 was skipped; 6 went through the policy and exhausted its attempts.
        #expect(error?.result.deadLetters.map(\.record) == ["5"])
        #expect(error?.cause.record == "6")
        _ = sink
    }

    @Test func abortFailsAtOnceWithThatFailureAsTheCause() async throws {
        let (env, _) = try await run(maxAttempts: 100, failures: FailureInjector(failOn: [3], times: .max)) { _ in .abort }
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.count == 1)
        #expect(error?.cause.record == "3")
        #expect(error?.result.restarts.isEmpty == true)
    }

    @Test func restartJobEscalatesToTheJob() async throws {
        let (env, _) = try await run(maxAttempts: 100, failures: FailureInjector(failOn: [3])) { _ in .restartJob }
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.count == 1)
        let escalation = await recorder.wait(for: .failureEscalated)
        #expect(escalation.message.contains("checkpoint"))
        recording.cancel()
    }

    @Test func anUnrecoverableErrorAbortsWithoutBurningRetries() async throws {
        let (env, _) = try await run(maxAttempts: 100, failures: FailureInjector(failOn: [2]), makeError: { BadCredentials() }, classify: nil)
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.count == 1)
        #expect(error?.cause.error is BadCredentials)
        #expect(error?.result.restarts.isEmpty == true)
    }

    @Test func theClassifierSeesTheHistory() async throws {
        let lengths = Recorder<Int>()
        let (env, _) = try await run(failures: FailureInjector(failOn: [1, 2, 3])) { info in
            lengths.append(info.history.count)
            #expect(info.history.last?.record == info.failure.record)
            return .normal
        }
        _ = try await env.submit()
        #expect(lengths.values == [1, 2, 3])
    }
}
