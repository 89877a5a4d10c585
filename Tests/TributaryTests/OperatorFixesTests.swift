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
