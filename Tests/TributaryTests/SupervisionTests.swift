import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct SupervisionTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(_ faultTolerance: [String: ConfigValue]) -> [String: ConfigValue] {
        ["work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(faultTolerance)]
    }

    /// map(×3) over 0..<count where `failures` throws on chosen records: the expected output is
    /// the failure-free one.
    func runFailingMap(
        _ config: [String: ConfigValue], failures: FailureInjector<Int>, count: Int = 1000, clock: ManualClock? = nil,
        policy: SupervisionPolicy? = nil
    ) async throws -> (LocalEnvironment, CollectSink<Int>) {
        let env = try clock.map { try LocalEnvironment("supervised", config: config, clock: $0) } ?? LocalEnvironment("supervised", config: config)
        let sink = CollectSink<Int>()
        var stream = env.fromSource(GeneratorSource(count: count) { $0 })
            .map { value -> Int in
                try failures.check(value)
                return value * 3
            }
            .named("triple")
        if let policy { stream = stream.supervised(policy) }
        stream.sink(sink)
        return (env, sink)
    }

    @Test func fixedRestartRetriesTheFailedRecordWithNoLossOrDuplicate() async throws {
        let failures = FailureInjector(failOn: [0, 15, 16, 500, 999])
        let (env, sink) = try await runFailingMap(config(["restart_strategy": "fixed", "delay": 0, "max_attempts": 5]), failures: failures)
        let result = try await env.submit()
        #expect(sink.values == (0..<1000).map { $0 * 3 })
        #expect(result.restarts.map(\.attempt) == [1, 2, 3, 4, 5])
        #expect(result.restarts.map(\.failure.record) == ["0", "15", "16", "500", "999"])
        #expect(result.recoveries.count == 5)
        #expect(result.recoveries.allSatisfy { $0.kind == .operatorRestart && $0.latency >= .zero })
        #expect(result[operator: "triple"]?.recordsOut == 1000)
    }

    @Test func exponentialBackoffDelaysAreAppliedAndCappedOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let failures = FailureInjector(failOn: [7], times: 4)
        let (env, sink) = try await runFailingMap(
            config(["restart_strategy": "exponential", "initial_delay": 1, "max_delay": 5, "multiplier": 2, "max_attempts": 4]),
            failures: failures, count: 50, clock: clock)
        let job = Task { try await env.submit() }
        var delays: [Duration] = []
        for _ in 0..<4 {
            let delay = await clock.nextSleep()
            delays.append(delay)
            #expect(sink.values.count < 50, "the operator waits on the clock, not in real time")
            clock.advance(by: delay)
        }
        let result = try await job.value
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(5)])
        #expect(result.restarts.map(\.delay) == delays)
        #expect(sink.values == (0..<50).map { $0 * 3 })
    }

    @Test func failureRateRestartsWithinItsLimit() async throws {
        let failures = FailureInjector(failOn: [3, 4], times: 1)
        let (env, sink) = try await runFailingMap(
            config(["restart_strategy": "failure_rate", "max_failures_per_interval": 2, "interval_seconds": 60, "delay": 0]),
            failures: failures, count: 20)
        let result = try await env.submit()
        #expect(sink.values == (0..<20).map { $0 * 3 })
        #expect(result.restarts.count == 2)
    }

    @Test func failureRateEscalatesOnTheFailureBeyondItsWindowLimit() async throws {
        let failures = FailureInjector(failOn: [3, 4, 5], times: 1)
        let (env, _) = try await runFailingMap(
            config(["restart_strategy": "failure_rate", "max_failures_per_interval": 2, "interval_seconds": 60, "delay": 0]),
            failures: failures, count: 20)
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.map(\.record) == ["3", "4", "5"])
        #expect(error?.cause.record == "5")
    }

    @Test func reachingTheLimitEscalatesAndTheJobFailsWithTheWholeHistory() async throws {
        let failures = FailureInjector(failOn: [5], times: .max)
        let (env, sink) = try await runFailingMap(config(["restart_strategy": "fixed", "delay": 0, "max_attempts": 2]), failures: failures, count: 100)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.count == 3)
        #expect(error?.history.allSatisfy { $0.operatorName == "triple" && $0.record == "5" } == true)
        #expect(error?.cause.recordIndex == 5)
        #expect(error?.result.restarts.map(\.attempt) == [1, 2])
        #expect(error?.result.status == .failed)
        // Output stops at a batch boundary before the failing record.
        #expect((0..<5).map { $0 * 3 }.starts(with: sink.values))
        let escalation = await recorder.wait(for: .failureEscalated, operator: "triple")
        #expect(escalation.message.contains("restart limit"))
        await recorder.wait(for: .jobFailed)
        recording.cancel()
    }

    @Test func resumeSendsExactlyTheFailingRecordsToDeadLetters() async throws {
        let failures = FailureInjector(failOn: [2, 40, 41, 99], times: .max)
        let (env, sink) = try await runFailingMap(config(["strategy": "restart"]), failures: failures, count: 100, policy: .resume)
        let result = try await env.submit()
        #expect(sink.values == (0..<100).filter { ![2, 40, 41, 99].contains($0) }.map { $0 * 3 })
        #expect(result.deadLetters.map(\.record) == ["2", "40", "41", "99"])
        #expect(result.deadLetters.map(\.recordIndex) == [2, 40, 41, 99])
        #expect(result.deadLetters.allSatisfy { $0.operatorName == "triple" && $0.error is InjectedFailure })
        #expect(result.restarts.isEmpty)
    }

    @Test func stopFailsTheJobOnTheFirstFailure() async throws {
        let failures = FailureInjector(failOn: [10])
        let (env, _) = try await runFailingMap(config(["strategy": "restart"]), failures: failures, count: 100, policy: .stop)
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.count == 1)
        #expect(error?.result.restarts.isEmpty == true)
    }

    @Test func strategyNoneFailsOnTheFirstFailure() async throws {
        let failures = FailureInjector(failOn: [10])
        let (env, _) = try await runFailingMap(config(["strategy": "none"]), failures: failures, count: 100)
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.history.count == 1)
    }

    @Test func escalateAndRestoreCheckpointFailTheJobWithoutCheckpoints() async throws {
        for policy in [SupervisionPolicy.escalate, .restoreCheckpoint] {
            let failures = FailureInjector(failOn: [1])
            let (env, _) = try await runFailingMap(config(["strategy": "restart"]), failures: failures, count: 10, policy: policy)
            let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
            #expect(error?.history.count == 1)
        }
    }

    @Test func aPerOperatorPolicyOverridesTheDefault() async throws {
        let failures = FailureInjector(failOn: [4], times: 2)
        let (env, sink) = try await runFailingMap(
            config(["strategy": "none"]), failures: failures, count: 10, policy: .restart(.fixed(delay: .zero, maxAttempts: 5)))
        let result = try await env.submit()
        #expect(sink.values == (0..<10).map { $0 * 3 })
        #expect(result.restarts.count == 2)
    }

    @Test func theDefaultWithoutFaultToleranceRestartsThreeTimes() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("default", config: ["work_dir": .string(directory.path("work"))], clock: clock)
        let failures = FailureInjector(failOn: [1], times: 3)
        let sink = CollectSink<Int>()
        env.fromCollection([0, 1, 2]).map { value -> Int in
            try failures.check(value)
            return value
        }.sink(sink)
        let job = Task { try await env.submit() }
        for _ in 0..<3 {
            let delay = await clock.nextSleep()
            #expect(delay == .milliseconds(100))
            clock.advance(by: delay)
        }
        _ = try await job.value
        #expect(sink.values == [0, 1, 2])
    }

    @Test func aRestartMakesAFreshOperatorFromTheFactory() async throws {
        struct Counting: MapOperator {
            var seen = 0
            let failures: FailureInjector<Int>
            mutating func map(_ input: Int) async throws -> String {
                seen += 1
                try failures.check(input)
                return "\(input)@\(seen)"
            }
        }
        let made = Counter()
        let failures = FailureInjector(failOn: [3])
        let env = try LocalEnvironment("fresh", config: config(["delay": 0]))
        let sink = CollectSink<String>()
        env.fromCollection([0, 1, 2, 3, 4]).map { () -> Counting in
            made.increment()
            return Counting(failures: failures)
        }.sink(sink)
        _ = try await env.submit()
        #expect(made.current == 2)
        #expect(sink.values == ["0@1", "1@2", "2@3", "3@1", "4@2"], "the fresh instance starts counting again at the retried record")
    }

    @Test func keyedStateSurvivesARestartExactly() async throws {
        let failures = FailureInjector(failOn: [7, 8, 30], times: 2)
        let env = try LocalEnvironment("keyed-restart", config: config(["delay": 0, "max_attempts": 10]))
        let sink = CollectSink<String>()
        env.fromCollection(Array(0..<40))
            .keyBy { $0 % 3 }
            .mapWithState(initial: [Int]()) { (seen: inout [Int], value: Int) in
                seen.append(value)
                try failures.check(value)
                return "\(value % 3):\(seen.count)"
            }
            .sink(sink)
        let result = try await env.submit()
        var counts: [Int: Int] = [:]
        let expected = (0..<40).map { value -> String in
            counts[value % 3, default: 0] += 1
            return "\(value % 3):\(counts[value % 3]!)"
        }
        #expect(sink.values == expected)
        #expect(result.restarts.count == 6)
    }

    @Test func aFailingSinkWriteIsRetriedOnAFreshWriter() async throws {
        final class FlakySink: Sink, Sendable {
            let collected = CollectSink<Int>()
            let failures = FailureInjector(failOn: [0], times: 2)
            let writers = Counter()
            func makeWriter(_ context: SinkContext) throws -> Writer {
                writers.increment()
                return Writer(sink: self, inner: try collected.makeWriter(context))
            }
            struct Writer: SinkWriter {
                let sink: FlakySink
                var inner: CollectSink<Int>.Writer
                mutating func write(_ records: [Int]) throws {
                    try sink.failures.check(records[0] == 0 ? 0 : 1)
                    try inner.write(records)
                }
            }
        }
        let sink = FlakySink()
        let env = try LocalEnvironment("flaky-sink", config: config(["delay": 0]))
        env.fromCollection(Array(0..<100)).sink(sink)
        let result = try await env.submit()
        #expect(sink.collected.values == Array(0..<100))
        #expect(sink.writers.current == 3)
        #expect(result.restarts.count == 2)
    }

    @Test func oneOperatorWaitingToRestartDoesNotPauseAnotherBranch() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("branches", config: config(["delay": 3600, "max_attempts": 1]), clock: clock)
        let failures = FailureInjector(failOn: [0])
        let slowSink = CollectSink<Int>()
        let fastSink = CollectSink<Int>()
        let fastDone = Gate()
        env.fromCollection([0, 1, 2]).map { value -> Int in
            try failures.check(value)
            return value
        }.named("stuck").sink(slowSink)
        env.fromSource(GeneratorSource(count: 10_000) { $0 }).map { value -> Int in
            if value == 9_999 { fastDone.open() }
            return value
        }.named("flowing").sink(fastSink)
        let job = Task { try await env.submit() }
        let delay = await clock.nextSleep()
        #expect(delay == .seconds(3600))
        await fastDone.wait()
        // The other branch ran to its last record while 'stuck' waits out its hour.
        #expect(clock.sleeperCount == 1)
        #expect(slowSink.values.isEmpty)
        clock.advance(by: delay)
        _ = try await job.value
        #expect(fastSink.values == Array(0..<10_000))
        #expect(slowSink.values == [0, 1, 2])
    }
}
