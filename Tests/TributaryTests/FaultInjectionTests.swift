import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct FaultInjectionTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    // MARK: Configuration

    @Test func rulesAreParsedFromAnArrayOrASingleObject() throws {
        let configuration = try EnvironmentConfiguration([
            "fault_injection": [
                ["operator": "parse", "inject": "throw", "every_records": 100, "times": 3],
                ["operator": "enrich", "inject": "hang", "duration": 2, "at_records": [5, 9]],
                ["operator": "count", "inject": "slow", "duration": 0.001, "probability": 0.25, "seed": 7],
                ["operator": "count", "inject": "crash_process", "at_records": [1]],
            ],
        ])
        #expect(configuration.faultInjections == [
            FaultInjection(operatorName: "parse", kind: .throw, trigger: .everyRecords(100), times: 3),
            FaultInjection(operatorName: "enrich", kind: .hang, trigger: .atRecords([5, 9]), duration: .seconds(2)),
            FaultInjection(operatorName: "count", kind: .slow, trigger: .probability(0.25, seed: 7), duration: .milliseconds(1)),
            FaultInjection(operatorName: "count", kind: .crashProcess, trigger: .atRecords([1])),
        ])
        #expect(try EnvironmentConfiguration(configuration.dictionaryRepresentation) == configuration, "the summary's form parses back")
        let single = try EnvironmentConfiguration(["fault_injection": ["operator": "x", "inject": "throw", "every_records": 2]])
        #expect(single.faultInjections.count == 1)
        #expect(try EnvironmentConfiguration([:]).faultInjections.isEmpty, "off unless configured")
    }

    @Test(arguments: [
        (ConfigValue.object(["operator": "x", "inject": "thorw", "every_records": 2]), "fault_injection.inject", "throw"),
        (ConfigValue.object(["operator": "x", "inject": "hang", "every_records": 2]), "fault_injection.duration", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "duration": 1, "every_records": 2]), "fault_injection.duration", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "every_records": 2, "probability": 0.5]), "fault_injection.every_records", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw"]), "fault_injection.every_records", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "every_records": 0]), "fault_injection.every_records", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "at_records": [3, -1]]), "fault_injection.at_records[1]", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "probability": 1.5]), "fault_injection.probability", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "every_records": 2, "seed": 1]), "fault_injection.seed", nil),
        (ConfigValue.object(["operator": "x", "inject": "throw", "every_record": 2]), "fault_injection.every_record", "every_records"),
        (ConfigValue.object(["inject": "throw", "every_records": 2]), "fault_injection.operator", nil),
        (ConfigValue.array([.string("throw")]), "fault_injection[0]", nil),
    ])
    func badRulesAreRejectedNamingTheKey(rule: ConfigValue, keyPath: String, suggestion: String?) {
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["fault_injection": rule]) }
        #expect(error?.keyPath == keyPath)
        #expect(error?.suggestion == suggestion)
    }

    @Test func aRuleForAnOperatorTheJobDoesNotHaveIsRejectedAtSubmit() async throws {
        let env = try LocalEnvironment("unknown", config: [
            "work_dir": .string(directory.path("work")),
            "fault_injection": ["operator": "parze", "inject": "throw", "every_records": 2],
        ])
        env.fromCollection([1]).map { $0 }.named("parse").sink(CollectSink<Int>())
        let error = await #expect(throws: ConfigurationError.self) { try await env.submit() }
        #expect(error?.keyPath == "fault_injection[0].operator")
        #expect(error?.suggestion == "parse")
    }

    // MARK: Effects

    func run(_ rules: ConfigValue, faultTolerance: ConfigValue = ["delay": 0, "max_attempts": 1000], clock: ManualClock? = nil, count: Int = 1_000)
        async throws -> (LocalEnvironment, CollectSink<Int>, Task<JobResult, any Error>)
    {
        let config: [String: ConfigValue] = [
            "work_dir": .string(directory.path("work")), "batch_size": 64, "fault_injection": rules, "fault_tolerance": faultTolerance,
        ]
        let env = try clock.map { try LocalEnvironment("inject", config: config, clock: $0) } ?? LocalEnvironment("inject", config: config)
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: count) { $0 }).map { $0 * 2 }.named("double").sink(sink)
        return (env, sink, Task { try await env.submit() })
    }

    @Test func throwEveryNRecordsFailsThoseRecordsAndRestartsRecoverThem() async throws {
        let (_, sink, job) = try await run(["operator": "double", "inject": "throw", "every_records": 100])
        let result = try await job.value
        #expect(sink.values == (0..<1_000).map { $0 * 2 })
        #expect(result.restarts.map { $0.failure.recordIndex } == (1...10).map { $0 * 100 - 1 })
        #expect(result.restarts.allSatisfy { $0.failure.error is InjectedFault })
    }

    @Test func throwAtRecordsUnderCheckpointsRestoresAndStaysExactlyOnce() async throws {
        let (_, sink, job) = try await run(
            ["operator": "double", "inject": "throw", "at_records": [10, 700], "times": 2],
            faultTolerance: ["strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk")), "max_attempts": 0, "delay": 0],
            count: 20_000)
        let result = try await job.value
        #expect(sink.values == (0..<20_000).map { $0 * 2 })
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 2)
    }

    /// Two equal rules are two faults: each fires once. (Marking fired by the first equal rule's
    /// place once left the second rule firing on every retry until the job gave up.)
    @Test func twoEqualRulesFireOnceEach() async throws {
        let rule: ConfigValue = ["operator": "double", "inject": "throw", "at_records": [10]]
        let (_, sink, job) = try await run(.array([rule, rule]), faultTolerance: ["delay": 0, "max_attempts": 3])
        let result = try await job.value
        #expect(sink.values == (0..<1_000).map { $0 * 2 })
        #expect(result.restarts.map { $0.failure.recordIndex } == [10, 10])
    }

    @Test func probabilityIsReproducibleWithASeed() async throws {
        var records: [[Int?]] = []
        for _ in 0..<2 {
            let (_, sink, job) = try await run(["operator": "double", "inject": "throw", "probability": 0.01, "seed": 42])
            let result = try await job.value
            #expect(sink.values == (0..<1_000).map { $0 * 2 })
            records.append(result.restarts.map { $0.failure.recordIndex })
        }
        #expect(records[0] == records[1])
        #expect(!records[0].isEmpty)
    }

    @Test func hangStopsTheOperatorForItsDurationOnTheJobClock() async throws {
        let clock = ManualClock()
        let (_, sink, job) = try await run(["operator": "double", "inject": "hang", "duration": 30, "at_records": [500]], clock: clock)
        let delay = await clock.nextSleep()
        #expect(delay == .seconds(30))
        #expect(sink.values.count < 1_000, "the operator is hanging")
        clock.advance(by: delay)
        _ = try await job.value
        #expect(sink.values == (0..<1_000).map { $0 * 2 })
    }

    @Test func slowAddsItsDurationToEachSelectedRecord() async throws {
        let clock = ManualClock()
        let (_, sink, job) = try await run(["operator": "double", "inject": "slow", "duration": 0.5, "every_records": 300], clock: clock)
        for _ in 0..<3 {
            let delay = await clock.nextSleep()
            #expect(delay == .milliseconds(500))
            clock.advance(by: delay)
        }
        let result = try await job.value
        #expect(sink.values == (0..<1_000).map { $0 * 2 })
        #expect(result.restarts.isEmpty)
    }

    @Test(.timeLimit(.minutes(3))) func crashProcessEndsTheProcessAndTheWatchdogRecoversIt() async throws {
        let expected = try WordCountInput.write(lines: 2_000, into: directory.url)
        let watchdog = ProcessWatchdog(
            command: [
                WatchdogTests.binary("CheckpointedWordCount").path, "in.txt", "out.txt", "--job-id", "crashing", "--state-dir", "state",
                "--checkpoint-interval", "0.005", "--crash-at", "3000", "--crash-times", "2", "--trap-file", "starts.count",
            ],
            restartStrategy: .fixed(delay: .zero, maxAttempts: 5), workingDirectory: directory.url,
            childStandardError: directory.url.appendingPathComponent("child.stderr"))
        let report = try await watchdog.run()
        #expect(report.crashes.count == 2)
        #expect(report.crashes.allSatisfy { $0.ending == "signal 9" })
        #expect(try String(contentsOf: directory.url.appendingPathComponent("out.txt"), encoding: .utf8) == expected)
    }
}
