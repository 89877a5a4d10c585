import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct OperatorTimeoutTests {
    struct Lookup: MapOperator {
        let sawCancellation: Gate
        mutating func map(_ input: Int) async throws -> Int {
            if input == 2 {
                // Hangs until cancelled: an AsyncStream that never yields ends on cancellation.
                let never = AsyncStream<Int> { _ in }
                for await _ in never {}
                if Task.isCancelled { sawCancellation.open() }
                try Task.checkCancellation()
            }
            return input * 10
        }
    }

    @Test func aHungAsyncOperatorFailsAfterTheTimeoutAndSeesCancellation() async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("hung", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["strategy": "none", "operator_timeout": 0.05],
        ])
        let cancelled = Gate()
        env.fromCollection([1, 2, 3]).map { Lookup(sawCancellation: cancelled) }.named("lookup").sink(CollectSink<Int>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "lookup")
        #expect(error?.cause.record == "2")
        #expect((error?.cause.error as? OperatorTimeoutError)?.timeout == .seconds(0.05))
        await cancelled.wait()
    }

    @Test func aTimedOutCallIsRetriedAfterARestart() async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("retry-timeout", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["delay": 0, "operator_timeout": 0.05],
        ])
        let hangs = FailureInjector(failOn: [2], times: 1)
        let sink = CollectSink<Int>()
        env.fromCollection([1, 2, 3]).mapAsync(maxConcurrency: 2) { value -> Int in
            if (try? hangs.check(value)) == nil {
                let never = AsyncStream<Int> { _ in }
                for await _ in never {}
            }
            return value
        }.sink(sink)
        let result = try await env.submit()
        #expect(sink.values == [1, 2, 3])
        #expect(result.restarts.first?.failure.error is OperatorTimeoutError)
    }
}
