import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Replica takeover (`supervised(.failover)`): while a failed instance waits for its restart,
/// its siblings take its input, and it takes its share again once back; nothing is lost or
/// duplicated, under checkpoints, a cancel during the takeover and an instance that keeps failing.
@Suite struct ReplicaTakeoverTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    static let count = 2_000
    static var expected: [Int] { (0..<count).map { $0 * 3 } }

    /// Instance 1 of 'enrich' throws on its record #5 (unless `faults` says otherwise), and its
    /// restart waits `delay` on the manual clock: the rest of the input can only get through if
    /// instance 0 takes it.
    func makeJob<S: Source>(
        clock: ManualClock, source: S, policy: SupervisionPolicy? = .failover(.fixed(delay: .seconds(60), maxAttempts: 3)),
        faults: ConfigValue = ["operator": "enrich", "instance": 1, "inject": "throw", "at_records": [5]],
        faultTolerance: [String: ConfigValue] = [:], sink: CollectSink<Int>, lastRecord: Gate, events: Recorder<JobEvent>
    ) throws -> LocalEnvironment where S.Element == Int {
        let env = try LocalEnvironment("takeover", config: [
            "job_id": "takeover", "work_dir": .string(directory.path("work")), "batch_size": 10, "channel_capacity": 2,
            "fault_tolerance": .object(faultTolerance), "fault_injection": faults,
        ], clock: clock)
        env.onEvent { events.append($0) }
        var stream = env.fromSource(source)
            .map { value -> Int in
                if value == Self.count - 1 { lastRecord.open() }
                return value * 3
            }
            .named("enrich").parallelism(2)
        if let policy { stream = stream.supervised(policy) }
        stream.sink(sink)
        return env
    }

    func makeJob(
        clock: ManualClock, policy: SupervisionPolicy? = .failover(.fixed(delay: .seconds(60), maxAttempts: 3)),
        faultTolerance: [String: ConfigValue] = [:], sink: CollectSink<Int>, lastRecord: Gate, events: Recorder<JobEvent>
    ) throws -> LocalEnvironment {
        try makeJob(
            clock: clock, source: GeneratorSource(count: Self.count) { $0 }, policy: policy, faultTolerance: faultTolerance, sink: sink,
            lastRecord: lastRecord, events: events)
    }

    /// Waits until instance 1's restart sleeps (the checkpoint coordinator's tick also sleeps
    /// on the job clock, for `checkpoint_timeout`).
    func restartDelay(on clock: ManualClock) async -> Duration {
        while true {
            let delay = await clock.nextSleep()
            if delay == .seconds(60) { return delay }
        }
    }

    @Test(.timeLimit(.minutes(3))) func aFailedInstancesInputGoesToItsSiblingUntilItIsBack() async throws {
        let clock = ManualClock()
        let sink = CollectSink<Int>()
        let lastRecord = Gate()
        let events = Recorder<JobEvent>()
        let env = try makeJob(clock: clock, sink: sink, lastRecord: lastRecord, events: events)
        let job = Task { try await env.submit() }

        let delay = await restartDelay(on: clock)
        #expect(delay == .seconds(60))
        // Instance 1 sleeps until the clock moves: the last record reaches 'enrich' only through
        // instance 0. (Under plain `.restart` the source would wait on instance 1's full inbox.)
        await lastRecord.wait()
        clock.advance(by: delay)

        let result = try await job.value
        #expect(sink.values.sorted() == Self.expected, "every record once")
        #expect(result.restarts.map(\.instance) == [1])
        let failover = events.values.filter { $0.kind == .failoverStart || $0.kind == .failoverEnd }
        #expect(failover.map(\.kind) == [.failoverStart, .failoverEnd])
        #expect(failover.allSatisfy { $0.instance == 1 && $0.operatorName == "enrich" })
    }

    /// Without failover the same job cannot get its last record through while instance 1 is
    /// down: what the test above measures is the takeover, not the plan.
    @Test(.timeLimit(.minutes(3))) func withPlainRestartTheSourceWaitsForTheFailedInstance() async throws {
        let clock = ManualClock()
        let sink = CollectSink<Int>()
        let lastRecord = Gate()
        let events = Recorder<JobEvent>()
        let env = try makeJob(
            clock: clock, policy: .restart(.fixed(delay: .seconds(60), maxAttempts: 3)), sink: sink, lastRecord: lastRecord, events: events)
        let job = Task { try await env.submit() }
        let delay = await restartDelay(on: clock)
        // The source is parked on instance 1's full inbox or will be: no record past the first
        // few batches can have reached 'enrich' (channel capacity 2 of batches of 10).
        #expect(!lastRecord.isOpen)
        clock.advance(by: delay)
        _ = try await job.value
        #expect(lastRecord.isOpen)
        #expect(sink.values.sorted() == Self.expected)
        #expect(!events.values.contains { $0.kind == .failoverStart })
    }

    /// A checkpoint started while instance 1 is down: its barrier waits in the down instance's
    /// inbox (taken beyond its capacity, so the source does not wait on it), the checkpoint
    /// completes once the instance is back, and its output is every record once. (Meanwhile
    /// the sink's barrier alignment holds instance 0's output: a checkpoint waits for the down
    /// instance, documented under `SupervisionPolicy.failover`.)
    @Test(.timeLimit(.minutes(3))) func aCheckpointDuringTheTakeoverCompletesOnceTheInstanceIsBack() async throws {
        let clock = ManualClock()
        let sink = CollectSink<Int>()
        let events = Recorder<JobEvent>()
        let ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_mode": "manual", "checkpoint_interval": 0, "checkpoint_dir": .string(directory.path("chk")),
        ]
        let lastRecord = Gate()
        let env = try makeJob(clock: clock, faultTolerance: ft, sink: sink, lastRecord: lastRecord, events: events)
        let started = Gate()
        env.onEvent { if $0.kind == .checkpointStart { started.open() } }
        let job = Task { try await env.submit() }
        let delay = await restartDelay(on: clock)
        let checkpoint = Task { try await env.triggerCheckpoint() }
        await started.wait()
        clock.advance(by: delay)
        let record = try await checkpoint.value
        #expect(record.id == 1)
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == Self.expected, "every record once")
    }

    /// A cancel while instance 1 is down, after a checkpoint: the resumed job gives every record
    /// once (the checkpoint's output stays, the rest is read again from its position).
    @Test(.timeLimit(.minutes(3))) func aCancelDuringTheTakeoverThenAResumeLosesAndDuplicatesNothing() async throws {
        let sink = CollectSink<Int>()
        let ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_mode": "manual", "checkpoint_interval": 0, "checkpoint_dir": .string(directory.path("chk")),
        ]
        // Instance 1 gets batches 1, 3, 5, … of 10 records: its record #60 is record 130, after
        // the source's hold at 100.
        let source = HoldingSource(count: Self.count, holdAt: 100, blocking: false)
        let clock = ManualClock()
        let events = Recorder<JobEvent>()
        let env = try makeJob(
            clock: clock, source: source, faults: ["operator": "enrich", "instance": 1, "inject": "throw", "at_records": [60]],
            faultTolerance: ft, sink: sink, lastRecord: Gate(), events: events)
        let job = Task { try await env.submit() }
        await source.reached.wait()
        try await env.triggerCheckpoint()
        let committed = sink.values.sorted()
        #expect(committed == (0..<100).map { $0 * 3 })
        source.release.open()
        _ = await restartDelay(on: clock)
        env.cancel()
        let cancelled = try await job.value
        #expect(cancelled.status == .cancelled)
        #expect(sink.values.sorted() == committed, "a cancel commits nothing more")
        #expect(events.values.contains { $0.kind == .failoverStart && $0.instance == 1 })

        let resumed = try makeJob(
            clock: ManualClock(), source: GeneratorSource(count: Self.count) { $0 }, faults: [], faultTolerance: ft, sink: sink, lastRecord: Gate(),
            events: Recorder())
        let result = try await resumed.submit()
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == Self.expected, "every record once")
    }

    /// An instance that keeps failing (every 50th of its records) under checkpoints every
    /// millisecond: its siblings carry the load, each failure is one takeover, and the output is
    /// every record once.
    @Test(.timeLimit(.minutes(3))) func anInstanceThatKeepsFailingLosesAndDuplicatesNothing() async throws {
        let events = Recorder<JobEvent>()
        let env = try LocalEnvironment("keeps-failing", config: [
            "work_dir": .string(directory.path("work")), "batch_size": 16,
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk"))],
            "fault_injection": ["operator": "enrich", "instance": 1, "inject": "throw", "every_records": 50],
        ])
        env.onEvent { events.append($0) }
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 3_000) { $0 })
            .map { $0 * 3 }.named("enrich").parallelism(3).supervised(.failover(.fixed(delay: .zero, maxAttempts: 100_000)))
            .filter { $0 % 2 == 0 }
            .sink(sink)
        let result = try await env.submit()
        #expect(sink.values.sorted() == (0..<3_000).map { $0 * 3 }.filter { $0 % 2 == 0 }, "every record once")
        #expect(!result.restarts.isEmpty)
        #expect(result.restarts.allSatisfy { $0.instance == 1 && $0.failure.error is InjectedFault })
        #expect(events.values.filter { $0.kind == .failoverStart }.count == result.restarts.count)
        #expect(events.values.filter { $0.kind == .failoverEnd }.count == result.restarts.count)
        #expect(result.recoveries.allSatisfy { $0.kind == .operatorRestart }, "no checkpoint restore")
    }

    /// A handler that fails over runs every operator it supervises that can fail over with
    /// round-robin input; the same takeover as `.failover`, decided at run time.
    struct ReplicaTakeover: FaultHandler {
        var failsOver: Bool { true }
        func handle(_ failure: FailureInfo) async -> FaultHandlerDecision {
            failure.attempt <= 3 ? .failover(restartAfter: .seconds(60)) : .escalate
        }
    }

    @Test(.timeLimit(.minutes(3))) func aRegisteredFaultHandlerCanDecideATakeover() async throws {
        try FaultToleranceRegistry.register("replica_takeover_test") { _ in ReplicaTakeover() }
        let clock = ManualClock()
        let sink = CollectSink<Int>()
        let lastRecord = Gate()
        let events = Recorder<JobEvent>()
        let env = try makeJob(
            clock: clock, policy: nil, faultTolerance: ["strategy": "replica_takeover_test"], sink: sink, lastRecord: lastRecord, events: events)
        let job = Task { try await env.submit() }
        let delay = await restartDelay(on: clock)
        await lastRecord.wait()
        clock.advance(by: delay)
        let result = try await job.value
        #expect(sink.values.sorted() == Self.expected)
        #expect(result.restarts.map(\.instance) == [1])
        #expect(events.values.filter { $0.kind == .failoverStart }.map(\.instance) == [1])
    }

    /// The same handler on an operator after `keyBy` (which only the key's instance can serve)
    /// restarts it in place: nothing is rerouted, nothing rejected.
    @Test func aTakeoverDecidedForAKeyedOperatorIsARestart() async throws {
        try FaultToleranceRegistry.register("replica_takeover_keyed_test") { _ in ImmediateTakeover() }
        let events = Recorder<JobEvent>()
        let env = try LocalEnvironment("keyed", config: [
            "work_dir": .string(directory.path("work")), "fault_tolerance": ["strategy": "replica_takeover_keyed_test"],
            "fault_injection": ["operator": "sum", "inject": "throw", "at_records": [3, 9]],
        ])
        env.onEvent { events.append($0) }
        let sink = CollectSink<Int>()
        // 50 keys over two instances (the hash is seeded per process): each gets far more
        // than 10 records, so each fails twice.
        env.fromCollection(Array(0..<1_000)).keyBy { $0 % 50 }.reduce(+).named("sum").parallelism(2).sink(sink)
        let result = try await env.submit()
        #expect(result.restarts.count == 4)
        #expect(!events.values.contains { $0.kind == .failoverStart })
        #expect(sink.values.count == 1_000)
    }

    struct ImmediateTakeover: FaultHandler {
        var failsOver: Bool { true }
        func handle(_ failure: FailureInfo) async -> FaultHandlerDecision { .failover(restartAfter: .zero) }
    }

    @Test func failoverOnAnOperatorThatCannotHandItsRecordsToASiblingIsRejected() async throws {
        func submit(_ build: (LocalEnvironment) -> Void) async throws -> PipelineError? {
            let env = try LocalEnvironment("rejected", config: ["work_dir": .string(directory.path("work"))])
            build(env)
            return await #expect(throws: PipelineError.self) { try await env.submit() }
        }
        let keyed = try await submit { env in
            env.fromCollection([1, 2]).keyBy { $0 }.reduce(+).named("sum").parallelism(2).supervised(.failover).sink(CollectSink())
        }
        #expect(keyed?.code == .invalidArgument)
        #expect(keyed?.message.contains("'sum'") == true)
        #expect(keyed?.message.contains("keyBy") == true)
        let sink = try await submit { env in
            env.fromCollection([1, 2]).map { $0 }.sink(CollectSink()).named("out").supervised(.failover)
        }
        #expect(sink?.message.contains("'out'") == true)
        #expect(sink?.message.contains("a sink") == true)
        let badStrategy = try await submit { env in
            env.fromCollection([1, 2]).map { $0 }.named("m").supervised(.failover(.fixed(delay: .seconds(-1), maxAttempts: 1))).sink(CollectSink())
        }
        #expect(badStrategy?.message.contains("supervised(.failover(...)) of 'm'") == true)
        // Instances that keep state of their own: records must not move between them.
        let stateful = try await submit { env in
            env.fromCollection([1, 2]).map { OperatorFixesTests.RunningCount(failures: FailureInjector(failOn: [])) }.named("count")
                .parallelism(2).supervised(.failover).sink(CollectSink())
        }
        #expect(stateful?.message.contains("'count'") == true)
        #expect(stateful?.message.contains("keep state of their own") == true)
        let timestamps = try await submit { env in
            env.fromCollection([1, 2]).withTimestamps({ .seconds($0) }, watermarks: .monotonous()).named("stamp")
                .parallelism(2).supervised(.failover).sink(CollectSink())
        }
        #expect(timestamps?.message.contains("'stamp'") == true)
    }

    @Test func aFailoverOperatorRunsInInstancesOfItsOwnWithRoundRobinInput() throws {
        let env = try LocalEnvironment("plan")
        env.fromCollection([1, 2]).map { $0 }.named("before").parallelism(2)
            .map { $0 }.named("enrich").parallelism(2).supervised(.failover)
            .map { $0 }.named("after").parallelism(2)
            .sink(CollectSink())
        let plan = try env.graph.withLock { graph throws(PipelineError) in try PhysicalPlan.compile(graph, cores: 1) }
        let enrich = try #require(plan.nodes.first { $0.name == "enrich" })
        let after = try #require(plan.nodes.first { $0.name == "after" })
        #expect(enrich.placement.hasPrefix("own instance: supervised with failover"))
        #expect(after.vertex == enrich.vertex, "what follows is fused into it")
        let vertex = plan.vertices[enrich.vertex]
        #expect(vertex.failsOver)
        #expect(vertex.inputs.count == 1)
        if case .roundRobin = vertex.inputs[0].kind {} else { Issue.record("input edge is \(vertex.inputs[0].kind), not round-robin") }
        #expect(vertex.inputs[0].laneCount == 2)
    }

    @Test func anInstanceOutsideTheOperatorsParallelismIsRejected() async throws {
        let env = try LocalEnvironment("instance", config: [
            "work_dir": .string(directory.path("work")),
            "fault_injection": ["operator": "enrich", "instance": 2, "inject": "throw", "at_records": [1]],
        ])
        env.fromCollection([1, 2]).map { $0 }.named("enrich").parallelism(2).sink(CollectSink())
        let error = await #expect(throws: ConfigurationError.self) { try await env.submit() }
        #expect(error?.keyPath == "fault_injection[0].instance")
        #expect(error?.description.contains("0...1") == true)
    }

    /// Each replica backs off on its own: two instances that fail twice each stay within a
    /// limit of two restarts (under `.restart` the four would count together and escalate).
    @Test func eachInstanceHasARestartBudgetOfItsOwn() async throws {
        func run(_ policy: SupervisionPolicy) async throws -> JobResult {
            let env = try LocalEnvironment("budget", config: [
                "work_dir": .string(directory.path("work")), "batch_size": 10,
                "fault_injection": ["operator": "enrich", "inject": "throw", "at_records": [3, 5]],
            ])
            let sink = CollectSink<Int>()
            env.fromCollection(Array(0..<1_000)).map { $0 * 3 }.named("enrich").parallelism(2).supervised(policy).sink(sink)
            let result = try await env.submit()
            #expect(sink.values.sorted() == (0..<1_000).map { $0 * 3 })
            return result
        }
        let result = try await run(.failover(.fixed(delay: .zero, maxAttempts: 2)))
        #expect(result.restarts.count == 4)
        #expect(Set(result.restarts.map(\.instance)) == [0, 1])
        await #expect(throws: JobFailedError.self) { try await run(.restart(.fixed(delay: .zero, maxAttempts: 2))) }
    }

    // MARK: The pieces

    @Test func theHealthRoutesAroundDownInstancesAndBackWhenAllAreDown() {
        let inboxes = (0..<3).map { _ in Inbox<Int>(lanes: 1, capacity: 2) }
        let health = ReplicaHealth(inboxes: inboxes)
        #expect((0..<3).map { health.target(preferring: $0) } == [0, 1, 2])
        #expect(health.markDown(1))
        #expect(!health.markDown(1), "already down")
        #expect((0..<3).map { health.target(preferring: $0) } == [0, 2, 2])
        health.markDown(0)
        health.markDown(2)
        #expect((0..<3).map { health.target(preferring: $0) } == [0, 1, 2], "all down: the planned one, whose inbox holds the batch back")
        #expect(health.markUp(1))
        #expect(!health.markUp(1))
        #expect((0..<3).map { health.target(preferring: $0) } == [1, 1, 1])
    }

    /// A down instance's inbox takes what must reach it without a producer waiting — barriers,
    /// end of stream, one watermark (the newest), one batch already on its way — but not a
    /// stream of batches: with every instance down, backpressure holds. Wake-ups do not pile up,
    /// and once it is back its lane drains to its capacity before the waiting producer goes on.
    @Test(.timeLimit(.minutes(3))) func aDownInstancesInboxTakesControlButHoldsBackBatches() async throws {
        let inbox = Inbox<Int>(lanes: 1, capacity: 2)
        try await inbox.send(.batch([1]), lane: 0)
        try await inbox.send(.batch([2]), lane: 0)
        inbox.setOverflow(true, reroute: nil)
        try await inbox.send(.batch([3]), lane: 0)
        try await inbox.send(.watermark(.seconds(1)), lane: 0)
        try await inbox.send(.watermark(.seconds(2)), lane: 0)
        try await inbox.send(.barrier(1), lane: 0)
        try await inbox.send(.watermark(.seconds(3)), lane: 0)
        for _ in 0..<3 { inbox.wake() }
        #expect(inbox.fill.queued == 8, "3 batches, watermark 2, barrier, watermark 3, wake-ups up to the control lane's capacity (2)")
        #expect(!inbox.offer(.batch([4]), lane: 0), "a second batch beyond the capacity waits")
        let producer = Task { try await inbox.send(.batch([4]), lane: 0) }
        while inbox.fill.queued < 9 { await Task.yield() }
        inbox.setOverflow(false, reroute: nil)
        var received: [String] = []
        for _ in 0..<9 {
            let (lane, message) = try await inbox.receive()
            switch message {
            case .batch(let records): received.append("b\(records[0])")
            case .watermark(let time): received.append("w\(time.components.seconds)")
            case .barrier(let id): received.append(lane == inbox.controlLane ? "wake" : "c\(id)")
            default: received.append("?")
            }
        }
        try await producer.value
        #expect(received.filter { $0 != "wake" } == ["b1", "b2", "b3", "w2", "c1", "w3", "b4"])
        #expect(received.filter { $0 == "wake" }.count == 2)
    }

    /// A replica that keeps failing does not grow its lanes by a batch per failure: marking it
    /// down again leaves a producer parked on a lane already one batch past its capacity.
    @Test(.timeLimit(.minutes(3))) func goingDownAgainDoesNotTakeAnotherBatchIntoAFullLane() async throws {
        let inbox = Inbox<Int>(lanes: 1, capacity: 2)
        inbox.setOverflow(true, reroute: nil)
        for value in 1...3 { try await inbox.send(.batch([value]), lane: 0) }
        inbox.setOverflow(false, reroute: nil)
        let sent = Gate()
        let producer = Task {
            try await inbox.send(.batch([4]), lane: 0)
            sent.open()
        }
        while inbox.fill.queued < 4 { await Task.yield() }
        inbox.setOverflow(true, reroute: nil)
        for _ in 0..<100 { await Task.yield() }
        #expect(!sent.isOpen, "the producer stays parked: the lane holds its one batch beyond capacity already")
        #expect(!inbox.offer(.batch([5]), lane: 0))
        inbox.setOverflow(false, reroute: nil)
        var received: [Int] = []
        for _ in 0..<4 {
            if case .batch(let records) = try await inbox.receive().message { received.append(records[0]) }
        }
        try await producer.value
        #expect(received == [1, 2, 3, 4])
    }

    /// A full lane of a down replica hands a round-robin batch back while a sibling is up (the
    /// producer sends it there); without a sibling up, or from a producer that cannot reroute,
    /// the lane takes its one batch beyond capacity as before.
    @Test(.timeLimit(.minutes(3))) func aDownReplicasFullLaneHandsABatchBackWhileASiblingIsUp() async throws {
        let inboxes = (0..<2).map { _ in Inbox<Int>(lanes: 1, capacity: 1) }
        let health = ReplicaHealth(inboxes: inboxes)
        health.markDown(1)
        try await inboxes[1].send(.batch([1]), lane: 0, reroute: (health, 1))
        await #expect(throws: ReroutedBatch.self) { try await inboxes[1].send(.batch([2]), lane: 0, reroute: (health, 1)) }
        #expect(inboxes[1].fill.queued == 1, "the handed-back batch is not in the lane")
        try await inboxes[1].send(.batch([2]), lane: 0)
        #expect(inboxes[1].fill.queued == 2, "a producer that cannot reroute: the one batch beyond capacity")
        try await inboxes[1].send(.barrier(1), lane: 0, reroute: (health, 1))
        #expect(inboxes[1].fill.queued == 3, "a barrier is never handed back: the down lane takes it")
        let other = Inbox<Int>(lanes: 1, capacity: 1)
        let pair = ReplicaHealth(inboxes: [inboxes[0], other])
        pair.markDown(1)
        try await other.send(.batch([1]), lane: 0)
        pair.markDown(0)
        try await other.send(.batch([3]), lane: 0, reroute: (pair, 1))
        #expect(other.fill.queued == 2, "every replica down: the one batch beyond capacity")
    }

    /// A producer parked on a replica's full lane when the replica goes down takes its batch
    /// back and sends it to the sibling that is up.
    @Test(.timeLimit(.minutes(3))) func aBatchParkedOnAReplicaThatGoesDownGoesToItsSibling() async throws {
        let inboxes = (0..<2).map { _ in Inbox<Int>(lanes: 1, capacity: 1) }
        let health = ReplicaHealth(inboxes: inboxes)
        try await inboxes[1].send(.batch([1]), lane: 0)
        let sent = Task {
            let buffer = BatchBuffer<Int>(capacity: 4)
            buffer.items = [2]
            let emitter = Emitter(buffer: buffer, edges: [.init(targets: inboxes, lane: 0, route: .roundRobin(next: 1), health: health)], batchCapacity: 4)
            try await emitter.emit()
        }
        // Parked on instance 1's full lane (the parked batch counts as buffered).
        while inboxes[1].fill.queued < 2 { await Task.yield() }
        health.markDown(1)
        try await sent.value
        #expect(inboxes[1].fill.queued == 1, "only the batch that was in the lane")
        guard case .batch(let records) = try inboxes[0].tryReceive()?.message else {
            Issue.record("the batch did not reach instance 0")
            return
        }
        #expect(records == [2])
    }

    /// With every replica down, a producer parks on one's lane; when another comes back, the
    /// producer takes its batch back and sends it there instead of waiting for the down one.
    @Test(.timeLimit(.minutes(3))) func aBatchParkedWhileEveryReplicaIsDownGoesToTheFirstOneBack() async throws {
        let inboxes = (0..<2).map { _ in Inbox<Int>(lanes: 1, capacity: 1) }
        let health = ReplicaHealth(inboxes: inboxes)
        health.markDown(0)
        health.markDown(1)
        // Instance 1's lane takes its capacity and, down, one batch more.
        try await inboxes[1].send(.batch([1]), lane: 0)
        try await inboxes[1].send(.batch([2]), lane: 0)
        let sent = Task {
            let buffer = BatchBuffer<Int>(capacity: 4)
            buffer.items = [3]
            let emitter = Emitter(buffer: buffer, edges: [.init(targets: inboxes, lane: 0, route: .roundRobin(next: 1), health: health)], batchCapacity: 4)
            try await emitter.emit()
        }
        while inboxes[1].fill.queued < 3 { await Task.yield() }
        health.markUp(0)
        try await sent.value
        #expect(inboxes[1].fill.queued == 2)
        guard case .batch(let records) = try inboxes[0].tryReceive()?.message else {
            Issue.record("the batch did not reach instance 0")
            return
        }
        #expect(records == [3])
    }
}
