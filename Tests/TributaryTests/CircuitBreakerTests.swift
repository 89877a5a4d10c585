import Foundation
import Synchronization
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct CircuitBreakerTests {
    @Test func closedCountsConsecutiveFailuresAndASuccessResetsThem() {
        var machine = CircuitBreakerStateMachine(CircuitBreaker(failureThreshold: 3, coolDown: .seconds(10)))
        #expect(machine.permit(at: .zero) == (.call, .none))
        #expect(machine.failed(at: .seconds(1)) == .none)
        #expect(machine.failed(at: .seconds(2)) == .none)
        #expect(machine.succeeded() == .none)
        #expect(machine.state == .closed(consecutiveFailures: 0))
        #expect(machine.failed(at: .seconds(3)) == .none)
        #expect(machine.failed(at: .seconds(4)) == .none)
        #expect(machine.failed(at: .seconds(5)) == .opened)
        #expect(machine.state == .open(until: .seconds(15)))
    }

    @Test func openRejectsUntilTheCoolDownThenLetsOneProbeThrough() {
        var machine = CircuitBreakerStateMachine(CircuitBreaker(failureThreshold: 1, coolDown: .seconds(10)))
        #expect(machine.failed(at: .seconds(0)) == .opened)
        #expect(machine.permit(at: .seconds(9)) == (.reject(retryAfter: .seconds(10)), .none))
        #expect(machine.permit(at: .seconds(10)) == (.probe, .halfOpened))
        #expect(machine.permit(at: .seconds(10)) == (.wait, .none), "one probe at a time")
    }

    @Test func halfOpenClosesOnSuccessAndReopensOnFailure() {
        var machine = CircuitBreakerStateMachine(CircuitBreaker(failureThreshold: 1, coolDown: .seconds(10)))
        _ = machine.failed(at: .zero)
        _ = machine.permit(at: .seconds(10))
        #expect(machine.failed(at: .seconds(11)) == .opened)
        #expect(machine.state == .open(until: .seconds(21)))
        _ = machine.permit(at: .seconds(21))
        #expect(machine.succeeded() == .closed)
        #expect(machine.state == .closed(consecutiveFailures: 0))
        #expect(machine.permit(at: .seconds(22)) == (.call, .none))
    }

    @Test func anAbandonedProbeLetsTheNextPermitProbeAgain() {
        var machine = CircuitBreakerStateMachine(CircuitBreaker(failureThreshold: 1, coolDown: .seconds(10)))
        _ = machine.failed(at: .zero)
        #expect(machine.permit(at: .seconds(10)) == (.probe, .halfOpened))
        machine.probeAbandoned(at: .seconds(12))
        #expect(machine.state == .open(until: .seconds(12)))
        #expect(machine.permit(at: .seconds(12)) == (.probe, .halfOpened))
        machine.probeAbandoned(at: .seconds(13))
        _ = machine.succeeded()
        machine.probeAbandoned(at: .seconds(14))
        #expect(machine.state == .open(until: .seconds(13)), "abandoning matters only while half-open")
    }

    /// The probe is in flight when an earlier record's failure ends the batch and cancels it.
    /// The breaker used to stay half-open for good, so every retry found no call it could make:
    /// the job failed with an internal error, or, with `reset_after`, restarted forever (the
    /// FlakyService example hung in CI that way).
    @Test func aProbeCancelledByAnEarlierFailureIsSentAgainAfterTheRestart() async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("abandoned-probe", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["delay": 0, "max_attempts": 3],
        ], clock: ManualClock())
        let calls = Mutex<[Int: Int]>([:])
        let neverOpened = CancellableGate()
        let sink = CollectSink<Int>()
        env.fromCollection([0, 1, 2])
            .mapAsync(maxConcurrency: 2, circuitBreaker: CircuitBreaker(failureThreshold: 1, coolDown: .zero, whenOpen: .failFast)) { record in
                let call = calls.withLock { calls -> Int in
                    calls[record, default: 0] += 1
                    return calls[record, default: 0]
                }
                if call == 1 {
                    // Record 0 fails first; 1 (a plain call) and 2 (the probe that the failure
                    // let through, the cool-down being zero) are still in flight and get cancelled.
                    if record == 0 { throw InjectedError("first call fails") }
                    try await neverOpened.wait()
                }
                return record * 100
            }
            .named("enrich")
            .sink(sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let result = try await env.submit()
        await recorder.wait(for: .circuitClosed, operator: "enrich")
        recording.cancel()
        #expect(sink.values == [0, 100, 200])
        #expect(result.restarts.count == 1)
        #expect(calls.withLock { $0 } == [0: 2, 1: 2, 2: 2])
        let transitions = recorder.events.map(\.kind).filter { [.circuitOpened, .circuitHalfOpen, .circuitClosed].contains($0) }
        #expect(transitions == [.circuitOpened, .circuitHalfOpen, .circuitHalfOpen, .circuitClosed])
    }

    /// A service that fails until healed, counting calls.
    final class Service: Sendable {
        private let healthy = Atomic<Bool>(false)
        private let calls = Atomic<Int>(0)
        func heal() { healthy.store(true, ordering: .relaxed) }
        var callCount: Int { calls.load(ordering: .relaxed) }
        func call(_ value: Int) async throws -> Int {
            calls.add(1, ordering: .relaxed)
            guard healthy.load(ordering: .relaxed) else { throw InjectedError("service down") }
            return value * 100
        }
    }

    @Test func theOperatorStopsCallingWhileOpenAndResumesAfterAProbe() async throws {
        let directory = try TemporaryDirectory()
        let clock = ManualClock()
        let env = try LocalEnvironment("breaker", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["delay": 0, "max_attempts": 100],
        ], clock: clock)
        let service = Service()
        let (input, feed) = AsyncStream.makeStream(of: Int.self)
        let sink = CollectSink<Int>()
        env.fromSource(AsyncSequenceSource(input))
            .mapAsync(maxConcurrency: 1, circuitBreaker: CircuitBreaker(failureThreshold: 3, coolDown: .seconds(30), whenOpen: .deadLetter)) {
                try await service.call($0)
            }
            .named("enrich")
            .sink(sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }

        feed.yield(1)
        // Three failed calls (the first and two retries) open the circuit; record 1 is skipped.
        await recorder.wait(for: .circuitOpened, operator: "enrich")
        await recorder.first { $0.kind == .recordSkipped && $0.record == "1" }
        feed.yield(2)
        await recorder.first { $0.kind == .recordSkipped && $0.record == "2" }
        #expect(service.callCount == 3, "no call while the circuit is open")

        clock.advance(by: .seconds(30))
        service.heal()
        feed.yield(3)
        await recorder.wait(for: .circuitClosed, operator: "enrich")
        feed.yield(4)
        feed.finish()
        let result = try await job.value
        #expect(sink.values == [300, 400])
        #expect(result.deadLetters.map(\.record) == ["1", "2"])
        #expect(result.deadLetters.last?.error is CircuitOpenError)
        #expect(service.callCount == 5)
        let transitions = recorder.events.map(\.kind).filter { [.circuitOpened, .circuitHalfOpen, .circuitClosed].contains($0) }
        #expect(transitions == [.circuitOpened, .circuitHalfOpen, .circuitClosed])
        recording.cancel()
    }

    @Test func failFastFailsRecordsAtOnceUnderThePolicy() async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("fail-fast", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["strategy": "none"],
        ])
        let service = Service()
        env.fromCollection([1, 2, 3])
            .mapAsync(maxConcurrency: 1, circuitBreaker: CircuitBreaker(failureThreshold: 1, coolDown: .seconds(60), whenOpen: .failFast)) {
                try await service.call($0)
            }
            .sink(CollectSink<Int>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.error as? InjectedError == InjectedError("service down"))
        #expect(service.callCount == 1)
    }
}
