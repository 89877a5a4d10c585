import Testing
@testable import Tributary

@Suite struct CheckpointCoordinatorStateMachineTests {
    typealias Machine = CheckpointCoordinatorStateMachine

    func ack(_ key: String) -> CheckpointAck {
        CheckpointAck(key: key, fileName: key + ".state", parts: [:], alignment: .zero, stall: .zero)
    }

    @Test func aCheckpointCompletesWhenEveryInstanceAcknowledged() {
        var machine = Machine(expected: ["source-0", "sink-0"], nextID: 1)
        let (result, complete) = machine.trigger(manual: false, now: .zero)
        #expect(result == .started(1))
        #expect(complete?.id == nil)
        #expect(machine.acknowledge(1, ack("source-0"))?.id == nil)
        let done = machine.acknowledge(1, ack("sink-0"))
        #expect(done?.id == 1)
        #expect(done?.acks.map(\.key) == ["sink-0", "source-0"])
        #expect(machine.collecting == nil)
    }

    @Test func acknowledgementsOfAnotherCheckpointOrAnUnknownInstanceAreIgnored() {
        var machine = Machine(expected: ["a-0"], nextID: 5)
        _ = machine.trigger(manual: false, now: .zero)
        #expect(machine.acknowledge(4, ack("a-0"))?.id == nil)
        #expect(machine.acknowledge(5, ack("b-0"))?.id == nil)
        #expect(machine.acknowledge(5, ack("a-0"))?.id == 5)
    }

    /// Item 2 of the runtime-core issue: a stop while a checkpoint waits for a slow source
    /// must not let anything complete it afterwards.
    @Test func afterCloseNothingCompletesAndNothingStarts() {
        var machine = Machine(expected: ["source-0", "sink-0"], nextID: 1)
        _ = machine.trigger(manual: false, now: .zero)
        _ = machine.acknowledge(1, ack("sink-0"))
        #expect(machine.close(reason: "stopped") == 1, "the collecting checkpoint is abandoned")
        #expect(machine.finished(ack("source-0"))?.id == nil)
        #expect(machine.acknowledge(1, ack("source-0"))?.id == nil)
        #expect(machine.trigger(manual: true, now: .zero).0 == .closed("stopped"))
        #expect(machine.abandonedUpTo == 1)
    }

    @Test func aManualTriggerJoinsTheCollectingCheckpointAndMakesItManual() {
        var machine = Machine(expected: ["a-0"], nextID: 1)
        _ = machine.trigger(manual: false, now: .zero)
        #expect(machine.trigger(manual: true, now: .zero).0 == .joined(1))
        #expect(machine.acknowledge(1, ack("a-0"))?.manual == true)
    }

    @Test func aFinishedInstanceStandsInFromItsFinishingEpochOn() {
        var machine = Machine(expected: ["a-0", "b-0"], nextID: 1)
        _ = machine.trigger(manual: false, now: .zero)
        // a finished before acknowledging 1: its final state belongs to checkpoint 1.
        #expect(machine.finishingEpoch(for: "a-0") == 1)
        #expect(machine.finished(ack("a-0"))?.id == nil)
        #expect(machine.acknowledge(1, ack("b-0"))?.id == 1)
        // b acknowledged 2, then finished: its final state belongs to checkpoint 3.
        _ = machine.trigger(manual: false, now: .zero)
        _ = machine.acknowledge(2, ack("b-0"))
        _ = machine.trigger(manual: false, now: .zero)
        #expect(machine.finishingEpoch(for: "b-0") == 3)
        #expect(machine.finished(ack("b-0"))?.id == 3)
    }

    @Test func aCheckpointPastItsTimeoutIsAbandoned() {
        var machine = Machine(expected: ["a-0"], nextID: 1)
        _ = machine.trigger(manual: false, now: .seconds(10))
        #expect(machine.checkTimeout(now: .seconds(12), timeout: .seconds(3)) == nil)
        #expect(machine.checkTimeout(now: .seconds(13), timeout: .seconds(3)) == 1)
        #expect(machine.acknowledge(1, ack("a-0"))?.id == nil)
        #expect(machine.trigger(manual: false, now: .seconds(13)).0 == .started(2))
    }
}

