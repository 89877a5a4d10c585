import Synchronization

/// The bounded, multi-lane input of one operator instance: each upstream instance sends on its
/// own lane, the instance's single run loop receives from all of them.
///
/// - Important: ``send(_:lane:reroute:)`` suspends while the lane holds `capacity` messages, so a slow
///   consumer slows its producers down and memory stays bounded (about `capacity + 1` batches per
///   lane). Sending and receiving run on the caller's executor (`nonisolated(nonsending)`): the
///   fast path takes one lock and never hops threads.
@usableFromInline
final class Inbox<Element: Sendable>: Sendable {
    private let state: Mutex<InboxStateMachine<Element>>
    let laneCount: Int
    /// Told each time a producer finds its lane full and parks (tests observe backpressure
    /// through it).
    private let onFull: (@Sendable (_ lane: Int) -> Void)?

    /// - Parameter lanes: the data lanes, one per producer; one more lane, ``controlLane``,
    ///   carries the runtime's wake-ups.
    init(lanes: Int, capacity: Int, onFull: (@Sendable (_ lane: Int) -> Void)? = nil) {
        state = Mutex(InboxStateMachine(lanes: lanes + 1, capacity: capacity))
        laneCount = lanes
        self.onFull = onFull
    }

    /// Sends a message on `lane`, suspending while the lane is full.
    /// - Parameter reroute: for a round-robin producer around the replicas of a failover
    ///   vertex: the vertex's health and this inbox's instance. A batch is then handed back
    ///   (``ReroutedBatch``) instead of waiting here while this instance is down and a sibling
    ///   is up.
    /// - Throws: ``ReroutedBatch`` (only with `reroute`): send the batch to another instance;
    ///   or the error the inbox was closed with, when the job is shutting down.
    nonisolated(nonsending) func send(_ message: Message<Element>, lane: Int, reroute: (health: ReplicaHealth, instance: Int)? = nil) async throws {
        let action = state.withLock { $0.send(message, lane: lane, reroute: reroute) }
        switch action {
        case .queued:
            return
        case .deliver(let consumer, let delivery):
            consumer.resume(returning: delivery)
            return
        case .handBack:
            throw ReroutedBatch()
        case .fail(let error):
            throw error
        case .full:
            break
        }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            let park = state.withLock { $0.park(message, lane: lane, continuation: continuation, reroute: reroute) }
            switch park {
            case .parked:
                onFull?(lane)
            case .resume(let producer, let delivery):
                if let (consumer, value) = delivery { consumer.resume(returning: value) }
                producer.resume()
            case .handBack(let producer):
                producer.resume(throwing: ReroutedBatch())
            case .fail(let producer, let error):
                producer.resume(throwing: error)
            }
        }
    }

    /// Receives the next message from any lane, suspending while all lanes are empty.
    /// - Throws: the error the inbox was closed with.
    nonisolated(nonsending) func receive() async throws -> (lane: Int, message: Message<Element>) {
        if let delivery = try tryReceive() { return delivery }
        return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<(lane: Int, message: Message<Element>), any Error>) in
            let wait = state.withLock { $0.wait(continuation: continuation) }
            switch wait {
            case .waiting:
                break
            case .resume(let consumer, .take(let delivery, let producer)):
                producer?.resume()
                consumer.resume(returning: delivery)
            case .resume(let consumer, .fail(let error)):
                consumer.resume(throwing: error)
            case .resume(_, .empty):
                preconditionFailure("wait(continuation:) parks the consumer when every lane is empty")
            }
        }
    }

    /// Like ``receive()``, but a cancellation of the calling task ends only this wait (with
    /// `CancellationError`), not the inbox: for a buffer that outlives its consumer (an async
    /// sequence's pump, which serves every attempt of a job).
    nonisolated(nonsending) func receiveUnlessCancelled() async throws -> (lane: Int, message: Message<Element>) {
        try Task.checkCancellation()
        if let delivery = try tryReceive() { return delivery }
        defer { state.withLock { $0.clearCancelledWait() } }
        return try await withTaskCancellationHandler {
            try await receive()
        } onCancel: {
            state.withLock { $0.cancelWait() }?.resume(throwing: CancellationError())
        }
    }

    /// The lane after the data lanes: never blocked, written only by ``wake()``.
    var controlLane: Int { laneCount }

    /// Makes the consumer's wait return (a message on ``controlLane``) so it looks at the
    /// runtime's state: a checkpoint was abandoned, a stop was requested. Never suspends; a
    /// wake-up already pending makes another unnecessary.
    @usableFromInline
    func wake() {
        _ = offer(.barrier(0), lane: controlLane)
    }

    /// Queues `message` if its lane has room (or hands it to the waiting consumer); never
    /// suspends. Returns whether it was taken.
    func offer(_ message: Message<Element>, lane: Int) -> Bool {
        switch state.withLock({ $0.send(message, lane: lane) }) {
        case .queued:
            return true
        case .deliver(let consumer, let delivery):
            consumer.resume(returning: delivery)
            return true
        case .full, .handBack, .fail:
            return false
        }
    }

    /// Stops delivering messages of `lane` (barrier alignment).
    func block(lane: Int) {
        state.withLock { $0.block(lane) }
    }

    /// Delivers messages of every lane again.
    func unblockAll() {
        state.withLock { $0.unblockAll() }
    }

    /// Takes a message if one is queued, without waiting.
    func tryReceive() throws -> (lane: Int, message: Message<Element>)? {
        switch state.withLock({ $0.receive() }) {
        case .take(let delivery, let producer):
            producer?.resume()
            return delivery
        case .fail(let error):
            throw error
        case .empty:
            return nil
        }
    }

    /// Lets lanes grow past their capacity while the consumer is down (failover), resuming
    /// producers parked on a full lane; with `reroute` (this inbox's replica set and instance)
    /// and a sibling up, producers of reroutable batches take them back instead. `false` bounds
    /// the lanes again.
    @usableFromInline
    func setOverflow(_ allowed: Bool, reroute: (health: ReplicaHealth, instance: Int)?) {
        let (resume, handedBack) = state.withLock { $0.setOverflow(allowed, reroute: reroute) }
        for producer in resume { producer.resume() }
        for producer in handedBack { producer.resume(throwing: ReroutedBatch()) }
    }

    /// A sibling came back while this consumer is down: producers of reroutable batches parked
    /// here take them back, to send them to the sibling.
    @usableFromInline
    func handBackParked() {
        for producer in state.withLock({ $0.handBackParked() }) { producer.resume(throwing: ReroutedBatch()) }
    }

    /// Fails every waiting and later call with `error`; used to stop a job.
    @usableFromInline
    func close(with error: any Error) {
        let (consumer, producers) = state.withLock { $0.close(with: error) }
        consumer?.resume(throwing: error)
        for producer in producers { producer.resume(throwing: error) }
    }
}

/// Lets the runtime close inboxes of different element types alike.
@usableFromInline
protocol ClosableInbox: Sendable {
    func close(with error: any Error)
    func wake()
    func setOverflow(_ allowed: Bool, reroute: (health: ReplicaHealth, instance: Int)?)
    func handBackParked()
    /// Messages waiting now, and how many the data lanes hold at most (for metrics).
    var fill: (queued: Int, capacity: Int) { get }
}

extension Inbox: ClosableInbox {
    @usableFromInline var fill: (queued: Int, capacity: Int) { state.withLock { ($0.bufferedCount, laneCount * $0.capacity) } }
}

/// Thrown to a round-robin producer by the inbox of a down replica while a sibling is up: the
/// batch was not taken; send it to another instance (``Emitter``).
struct ReroutedBatch: Error {}
