import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct OperatorFixesTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(_ faultTolerance: [String: ConfigValue]) -> [String: ConfigValue] {
        ["work_dir": .string(directory.path("work")), "batch_size": 8, "fault_tolerance": .object(faultTolerance)]
    }
}

// MARK: - An operator-level restart keeps a checkpointable operator's state

extension OperatorFixesTests {
    /// Emits its running count. The count is bumped before the failure check, so a failing call
    /// leaves a half-applied update behind that a restart must discard.
    struct RunningCount: MapOperator, CheckpointableOperator {
        var count = 0
        let failures: FailureInjector<Int>
        mutating func map(_ input: Int) async throws -> String {
            count += 1
            try failures.check(input)
            return "\(input)#\(count)"
        }
        func snapshotState() throws -> Int { count }
        mutating func restoreState(_ state: Int) throws { count = state }
    }

    @Test(arguments: [nil, 30.0] as [Double?])
    func aRestartedCheckpointableOperatorGoesOnFromItsStateBeforeTheFailingCall(operatorTimeout: Double?) async throws {
        var faultTolerance: [String: ConfigValue] = ["delay": 0]
        if let operatorTimeout { faultTolerance["operator_timeout"] = .double(operatorTimeout) }
        let env = try LocalEnvironment("keeps-state", config: config(faultTolerance))
        let failures = FailureInjector(failOn: [5, 37, 38])
        let made = Counter()
        let sink = CollectSink<String>()
        env.fromCollection(Array(0..<60)).map { () -> RunningCount in
            made.increment()
            return RunningCount(failures: failures)
        }.named("count").sink(sink)
        let result = try await env.submit()
        #expect(made.current == 4, "the factory still makes a fresh instance at start and at each of the 3 restarts")
        #expect(result.restarts.count == 3)
        #expect(sink.values == (0..<60).map { "\($0)#\($0 + 1)" }, "the count goes on as in a failure-free run")
    }
}

// MARK: - operator_timeout fails a call that ignores cancellation

extension OperatorFixesTests {
    /// Its first call for record 2 waits for a gate, ignoring cancellation.
    struct Stuck: MapOperator {
        let gate: Gate
        let calls: Counter
        mutating func map(_ input: Int) async throws -> Int {
            if input == 2, calls.increment() == 1 { await gate.wait() }
            return input * 10
        }
    }

    @Test func aTimedOutCallThatIgnoresCancellationFailsWithoutWaitingForIt() async throws {
        let gate = Gate()
        defer { gate.open() }
        let env = try LocalEnvironment("stuck", config: config(["delay": 0, "operator_timeout": 0.05]))
        let calls = Counter()
        let sink = CollectSink<Int>()
        env.fromCollection([1, 2, 3]).map { Stuck(gate: gate, calls: calls) }.named("stuck").sink(sink)
        let result = try await env.submit()
        #expect(!gate.isOpen, "the job finished while the abandoned call still waits")
        #expect(sink.values == [10, 20, 30])
        #expect(result.restarts.count == 1)
        #expect((result.restarts.first?.failure.error as? OperatorTimeoutError)?.timeout == .seconds(0.05))
    }

    @Test func aTimedOutMapAsyncCallThatIgnoresCancellationIsDeadLettered() async throws {
        let gate = Gate()
        defer { gate.open() }
        let env = try LocalEnvironment("stuck-async", config: config(["delay": 0]))
        let sink = CollectSink<Int>()
        env.fromCollection([1, 2, 3]).mapAsync(maxConcurrency: 2, timeout: .milliseconds(50)) { value -> Int in
            if value == 2 { await gate.wait() }
            return value * 10
        }.named("lookup").supervised(.resume).sink(sink)
        let result = try await env.submit()
        #expect(!gate.isOpen)
        #expect(sink.values == [10, 30])
        #expect(result.deadLetters.map(\.record) == ["2"])
        #expect(result.deadLetters.first?.error is OperatorTimeoutError)
    }

    @Test func aCallThatFinishesInTimeReturnsItsValueAndItsError() async throws {
        let value = try await withOperatorTimeout(.seconds(60)) { 42 }
        #expect(value == 42)
        await #expect(throws: InjectedError.self) {
            try await withOperatorTimeout(.seconds(60)) { () async throws -> Int in throw InjectedError() }
        }
    }

    @Test func cancellingTheCallerEndsATimedCallThatIgnoresCancellation() async throws {
        let gate = Gate()
        defer { gate.open() }
        let started = Gate()
        let caller = Task {
            try await withOperatorTimeout(.seconds(3600)) { () async -> Int in
                started.open()
                await gate.wait()
                return 1
            }
        }
        await started.wait()
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }
}

// MARK: - Durations that Duration cannot hold are rejected

extension OperatorFixesTests {
    /// Every duration key, as a configuration that sets it to `value` (with the other keys it
    /// needs), and whether zero is allowed there.
    static let durationKeys: [(path: String, zeroAllowed: Bool, make: @Sendable (ConfigValue) -> [String: ConfigValue])] = [
        ("batch_linger", true, { ["batch_linger": $0] }),
        ("fault_tolerance.checkpoint_interval", false, { ["fault_tolerance": ["checkpoint_interval": $0]] }),
        ("fault_tolerance.checkpoint_timeout", false, { ["fault_tolerance": ["checkpoint_timeout": $0]] }),
        ("fault_tolerance.operator_timeout", false, { ["fault_tolerance": ["operator_timeout": $0]] }),
        ("fault_tolerance.delay", true, { ["fault_tolerance": ["restart_strategy": "fixed", "delay": $0]] }),
        ("fault_tolerance.initial_delay", true, { ["fault_tolerance": ["restart_strategy": "exponential", "initial_delay": $0, "max_delay": 1e9]] }),
        ("fault_tolerance.max_delay", true, { ["fault_tolerance": ["restart_strategy": "exponential", "initial_delay": 0, "max_delay": $0]] }),
        ("fault_tolerance.reset_after", false, { ["fault_tolerance": ["restart_strategy": "exponential", "reset_after": $0]] }),
        ("fault_tolerance.interval_seconds", false, { ["fault_tolerance": ["restart_strategy": "failure_rate", "interval_seconds": $0]] }),
        ("fault_tolerance.delay", true, { ["fault_tolerance": ["restart_strategy": "failure_rate", "delay": $0]] }),
        ("fault_injection.duration", false, { ["fault_injection": ["operator": "x", "inject": "hang", "every_records": 1, "duration": $0]] }),
    ]

    /// 1e-320 (a literal would warn that it underflows), the smallest Double, and a normal
    /// number below Duration's resolution of an attosecond: each is 0 s as a Duration.
    static let roundsToZero: [Double] = [Double("1e-320") ?? .leastNonzeroMagnitude, .leastNonzeroMagnitude, 1e-19]

    @Test(arguments: roundsToZero)
    func aDurationThatRoundsToZeroIsRejectedWhereZeroIsNot(value: Double) throws {
        #expect(value > 0)
        for key in Self.durationKeys {
            let configuration = key.make(.double(value))
            if key.zeroAllowed {
                // It is 0 s, which is allowed there.
                _ = try EnvironmentConfiguration(configuration)
            } else {
                let error = #expect(throws: ConfigurationError.self, "\(key.path)") { try EnvironmentConfiguration(configuration) }
                #expect(error?.keyPath == key.path)
                #expect(error?.given == ConfigValue.double(value).description)
                #expect(error?.description.contains("greater than 0") == true, "\(error.map(String.init(describing:)) ?? "")")
            }
        }
    }

    @Test func anAttosecondIsTheShortestDurationAboveZero() throws {
        let configuration = try EnvironmentConfiguration(["fault_tolerance": ["operator_timeout": 1e-18]])
        #expect(configuration.faultTolerance.operatorTimeout == Duration(secondsComponent: 0, attosecondsComponent: 1))
    }

    @Test(arguments: [1e300, 1e10, .nan, .infinity, -.infinity, -.leastNonzeroMagnitude] as [Double])
    func aDurationOutOfDurationsRangeIsRejectedWithItsKeyPath(value: Double) throws {
        for key in Self.durationKeys {
            let error = #expect(throws: ConfigurationError.self, "\(key.path) = \(value)") {
                try EnvironmentConfiguration(key.make(.double(value)))
            }
            #expect(error?.keyPath == key.path)
            #expect(error?.given == ConfigValue.double(value).description)
            #expect(error?.allowed.contains("at most") == true, "\(error.map(String.init(describing:)) ?? "")")
        }
    }
}

// MARK: - FileSource reads a long line in linear time

extension OperatorFixesTests {
    func readAll(_ path: String, from position: Int64? = nil, batch: Int = 3) async throws -> (lines: [String], scanned: Int, position: Int64) {
        var reader = try FileSource(path: path).makeReader(startingAt: position)
        var lines: [String] = []
        while try await reader.read(into: &lines, limit: ReadLimit(maxCount: batch, deadline: .now)) {}
        return (lines, reader.bytesScannedForNewlines, reader.position)
    }

    @Test(arguments: ["\n", "\r\n"])
    func aVeryLongLineIsScannedOnce(terminator: String) async throws {
        let long = String(repeating: "abcdefghij", count: 500_000)
        let lines = ["first", long, "", "after the long one", "ü-last"]
        let text = lines.joined(separator: terminator) + terminator
        let path = try directory.write("long.txt", text)
        let size = text.utf8.count

        let read = try await readAll(path)
        #expect(read.lines == lines)
        #expect(read.position == Int64(size))
        #expect(read.scanned <= 2 * size, "scanned \(read.scanned) bytes of a \(size)-byte file")
    }

    @Test func aMissingFinalNewlineAndAResumeMidFileReadExactlyTheRemainingLines() async throws {
        let long = String(repeating: "0123456789", count: 200_000)
        let lines = ["one", "two\r", long, "three", long, "tail without newline"]
        let text = lines.joined(separator: "\n")
        let path = try directory.write("resume.txt", text)
        let size = text.utf8.count

        let whole = try await readAll(path, batch: 1)
        #expect(whole.lines == ["one", "two", long, "three", long, "tail without newline"])
        #expect(whole.position == Int64(size))
        #expect(whole.scanned <= 2 * size)

        // Resume where each line starts, as a checkpointed position would.
        var offset = 0
        for (index, line) in lines.enumerated() {
            let rest = try await readAll(path, from: Int64(offset))
            #expect(rest.lines == Array(whole.lines[index...]), "resumed at byte \(offset)")
            #expect(rest.position == Int64(size))
            #expect(rest.scanned <= 2 * (size - offset))
            offset += line.utf8.count + 1
        }
    }

    @Test func manyShortLinesAroundChunkBoundariesAreReadExactly() async throws {
        let lines = (0..<40_000).map { "line \($0) " + String(repeating: "x", count: $0 % 17) }
        let text = lines.joined(separator: "\r\n") + "\r\n"
        let path = try directory.write("short.txt", text)
        let read = try await readAll(path, batch: 1000)
        #expect(read.lines == lines)
        #expect(read.scanned <= text.utf8.count)
    }
}
