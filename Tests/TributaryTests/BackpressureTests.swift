import Synchronization
import Testing
@testable import Tributary

@Suite struct BackpressureTests {
    /// A producer of unbounded speed against a consumer that does not take anything: the
    /// producer must be suspended with a bounded number of records in flight.
    @Test func aFastProducerIsSuspendedByAStalledConsumer() async throws {
        let batchSize = 16
        let capacity = 2
        let total = 100_000
        let env = try LocalEnvironment("backpressure", config: ["batch_size": .int(batchSize), "channel_capacity": .int(capacity)])
        let generated = Counter()
        let gate = Gate()
        let sink = CollectSink<Int>()
        let (events, eventSink) = AsyncStream.makeStream(of: String.self)
        env.observer.withLock { $0 = { event in
            if case .channelFull = event { eventSink.yield("full") }
        } }
        env.fromSource(GeneratorSource(count: total) { index in
            if generated.increment() == total { eventSink.yield("exhausted") }
            return index
        })
        .mapAsync(maxConcurrency: 1) { value in
            await gate.wait()
            return value
        }
        .parallelism(2)
        .sink(sink)

        let job = Task { try await env.submit() }
        // Whichever comes first: the producer blocked on a full channel (backpressure works), or
        // the generator ran to the end (it does not).
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        let inFlight = generated.current
        // Per consumer instance: `capacity` queued + 1 parked + 1 being processed; plus the
        // producer's batch being sent.
        let bound = 2 * (capacity + 2) * batchSize + batchSize
        #expect(first == "full")
        #expect(inFlight <= bound, "records in flight: \(inFlight), bound: \(bound)")
        gate.open()
        _ = try await job.value
        #expect(sink.values.sorted() == Array(0..<total))
    }

    @Test func inboxLaneHoldsCapacityThenParksOneProducer() {
        var machine = InboxStateMachine<Int>(lanes: 2, capacity: 2)
        guard case .queued = machine.send(.batch([1]), lane: 0), case .queued = machine.send(.batch([2]), lane: 0) else {
            Issue.record("the first two messages fit")
            return
        }
        guard case .full = machine.send(.batch([3]), lane: 0) else {
            Issue.record("the third message does not fit")
            return
        }
        #expect(machine.bufferedCount == 2)
        guard case .queued = machine.send(.batch([10]), lane: 1) else {
            Issue.record("another lane has its own capacity")
            return
        }
    }

    @Test func receivingVisitsLanesRoundRobin() {
        var machine = InboxStateMachine<Int>(lanes: 3, capacity: 4)
        for lane in 0..<3 {
            for value in 0..<2 { _ = machine.send(.batch([lane * 10 + value]), lane: lane) }
        }
        var order: [Int] = []
        while case .take(let delivery, _) = machine.receive() {
            if case .batch(let values) = delivery.message { order.append(contentsOf: values) }
        }
        #expect(order == [0, 10, 20, 1, 11, 21])
    }

    @Test func closingFailsLaterCalls() {
        var machine = InboxStateMachine<Int>(lanes: 1, capacity: 1)
        _ = machine.send(.batch([1]), lane: 0)
        let (consumer, producers) = machine.close(with: InjectedError("stop"))
        #expect(consumer == nil && producers.isEmpty)
        guard case .fail(let error) = machine.send(.batch([2]), lane: 0) else {
            Issue.record("send after close fails")
            return
        }
        #expect(error as? InjectedError == InjectedError("stop"))
        guard case .fail = machine.receive() else {
            Issue.record("receive after close fails")
            return
        }
    }

    @Test func ringBufferKeepsFIFOOrderAcrossGrowth() {
        var ring = RingBuffer<Int>()
        for value in 0..<3 { ring.append(value) }
        #expect(ring.popFirst() == 0)
        for value in 3..<20 { ring.append(value) }
        var drained: [Int] = []
        while let value = ring.popFirst() { drained.append(value) }
        #expect(drained == Array(1..<20))
        #expect(ring.isEmpty)
    }
}
