/// The decisions of an ``Inbox``: a bounded queue per input lane, one consumer, one producer per
/// lane. Pure state; the ``Inbox`` holds it under a lock and resumes continuations only after
/// leaving the lock.
///
/// A lane holds at most `capacity` messages; a producer that finds its lane full parks its
/// message and continuation in the lane (so at most `capacity + 1` messages of a lane are in
/// memory, and while the consumer is down, see `overflow`, one batch more and the control
/// messages) until the consumer takes one. That suspension is the backpressure.
struct InboxStateMachine<Element: Sendable> {
    typealias Delivery = (lane: Int, message: Message<Element>)

    struct Lane {
        var queue = RingBuffer<Message<Element>>()
        /// `reroutable`: the producer routes round-robin around down instances, and takes the
        /// batch back to send it to another instance when this one is down (``handBack``).
        var parkedProducer: (message: Message<Element>, continuation: UnsafeContinuation<Void, any Error>, reroutable: Bool)?
    }

    private(set) var lanes: [Lane]
    /// Lanes the consumer does not take from while it aligns a checkpoint barrier.
    private var blocked: [Bool]
    let capacity: Int
    /// Set while the consumer is down (failover): its producers route batches to its siblings,
    /// so the lanes take, beyond `capacity`, what must still reach it without making a
    /// producer wait — barriers, end of stream, idleness, one watermark (a newer one replaces
    /// a queued one). A batch that finds its lane full is handed back to a producer that can
    /// reroute while a sibling is up; otherwise a lane takes one batch beyond `capacity`, and
    /// any further batch waits as usual: when every sibling is down too, backpressure holds.
    private var overflow = false
    private var waitingConsumer: UnsafeContinuation<Delivery, any Error>?
    private var nextLane = 0
    private var closedError: (any Error)?

    init(lanes: Int, capacity: Int) {
        precondition(lanes > 0 && capacity > 0)
        self.lanes = Array(repeating: Lane(), count: lanes)
        self.blocked = Array(repeating: false, count: lanes)
        self.capacity = capacity
    }

    var laneCount: Int { lanes.count }

    /// Messages queued or parked across all lanes.
    var bufferedCount: Int { lanes.reduce(0) { $0 + $1.queue.count + ($1.parkedProducer == nil ? 0 : 1) } }

    // MARK: Sending

    enum SendAction {
        /// Queued; nothing else to do.
        case queued
        /// Hand the message straight to the waiting consumer.
        case deliver(UnsafeContinuation<Delivery, any Error>, Delivery)
        /// The lane is full: the producer must park (call ``park(_:lane:continuation:reroute:)``).
        case full
        /// The consumer is down and a sibling is up: the producer sends the batch there instead.
        case handBack
        /// The inbox was shut down.
        case fail(any Error)
    }

    /// Queues `message` on `lane` if there is room. With `reroute` (a round-robin producer
    /// around the replicas of a failover vertex, this inbox being instance `reroute.instance`),
    /// a batch that finds its lane full while the consumer is down and a sibling is up is
    /// handed back, so that the producer sends it to the sibling rather than wait for this one.
    mutating func send(_ message: Message<Element>, lane: Int, reroute: (health: ReplicaHealth, instance: Int)? = nil) -> SendAction {
        if let closedError { return .fail(closedError) }
        if !blocked[lane], let consumer = waitingConsumer {
            precondition(lanes[lane].queue.isEmpty, "a consumer waits only while every open lane is empty")
            waitingConsumer = nil
            return .deliver(consumer, (lane, message))
        }
        if lanes[lane].queue.count < capacity {
            lanes[lane].queue.append(message)
            return .queued
        }
        if overflow, lane != lanes.count - 1 {
            switch message {
            case .batch, .keyedBatch:
                if let reroute, reroute.health.hasUp(besides: reroute.instance) { return .handBack }
                guard lanes[lane].queue.count < capacity + 1 else { return .full }
                lanes[lane].queue.append(message)
            case .watermark:
                // With no record between them, the newer watermark says all the older one did.
                if case .watermark = lanes[lane].queue.last {
                    lanes[lane].queue.replaceLast(with: message)
                } else {
                    lanes[lane].queue.append(message)
                }
            case .barrier, .idle, .endOfStream:
                lanes[lane].queue.append(message)
            }
            return .queued
        }
        return .full
    }

    /// Lets lanes grow past `capacity` (`true`) or bounds them again. Allowing it queues each
    /// parked producer's message as ``send(_:lane:reroute:)`` would take it in overflow (a
    /// batch only into a lane below `capacity + 1`, so a replica that keeps failing does not
    /// grow its lanes by a batch per failure) and returns those producers, to be resumed; with
    /// `reroute` (this inbox's replica set and instance) and a sibling up, reroutable batches
    /// are handed back instead.
    mutating func setOverflow(
        _ allowed: Bool, reroute: (health: ReplicaHealth, instance: Int)?
    ) -> (resume: [UnsafeContinuation<Void, any Error>], handedBack: [UnsafeContinuation<Void, any Error>]) {
        overflow = allowed
        guard allowed, closedError == nil else { return ([], []) }
        // Read under this inbox's lock: a sibling that comes back after this read finds the
        // overflow set when it hands back what is parked here (``handBackParked()``).
        let handBack = reroute.map { $0.health.hasUp(besides: $0.instance) } ?? false
        var producers: [UnsafeContinuation<Void, any Error>] = []
        var handedBack: [UnsafeContinuation<Void, any Error>] = []
        for index in lanes.indices {
            guard let parked = lanes[index].parkedProducer else { continue }
            switch parked.message {
            case .batch, .keyedBatch:
                if handBack, parked.reroutable {
                    lanes[index].parkedProducer = nil
                    handedBack.append(parked.continuation)
                    continue
                }
                // The one batch a lane takes beyond its capacity; a lane already past that keeps
                // its producer parked.
                guard lanes[index].queue.count < capacity + 1 else { continue }
            case .barrier, .watermark, .idle, .endOfStream:
                break
            }
            lanes[index].queue.append(parked.message)
            lanes[index].parkedProducer = nil
            producers.append(parked.continuation)
        }
        return (producers, handedBack)
    }

    /// A sibling came back while this consumer is down: the producers of reroutable batches
    /// parked here take them back (to send them to the sibling). Returns those producers.
    mutating func handBackParked() -> [UnsafeContinuation<Void, any Error>] {
        guard overflow, closedError == nil else { return [] }
        var handedBack: [UnsafeContinuation<Void, any Error>] = []
        for index in lanes.indices {
            guard let parked = lanes[index].parkedProducer, parked.reroutable else { continue }
            switch parked.message {
            case .batch, .keyedBatch:
                lanes[index].parkedProducer = nil
                handedBack.append(parked.continuation)
            case .barrier, .watermark, .idle, .endOfStream:
                break
            }
        }
        return handedBack
    }

    enum ParkAction {
        case parked
        /// Space appeared or a consumer arrived between the first try and parking.
        case resume(UnsafeContinuation<Void, any Error>, deliver: (UnsafeContinuation<Delivery, any Error>, Delivery)?)
        /// The consumer went down meanwhile and a sibling is up: send the batch there.
        case handBack(UnsafeContinuation<Void, any Error>)
        case fail(UnsafeContinuation<Void, any Error>, any Error)
    }

    mutating func park(
        _ message: Message<Element>, lane: Int, continuation: UnsafeContinuation<Void, any Error>,
        reroute: (health: ReplicaHealth, instance: Int)? = nil
    ) -> ParkAction {
        switch send(message, lane: lane, reroute: reroute) {
        case .queued: return .resume(continuation, deliver: nil)
        case .deliver(let consumer, let delivery): return .resume(continuation, deliver: (consumer, delivery))
        case .handBack: return .handBack(continuation)
        case .fail(let error): return .fail(continuation, error)
        case .full:
            precondition(lanes[lane].parkedProducer == nil, "one producer per lane")
            lanes[lane].parkedProducer = (message, continuation, reroute != nil)
            return .parked
        }
    }

    // MARK: Receiving

    enum ReceiveAction {
        /// A message was taken; if a producer was parked on its lane, resume it.
        case take(Delivery, resumeProducer: UnsafeContinuation<Void, any Error>?)
        case empty
        case fail(any Error)
    }

    /// Takes the next message, visiting lanes round-robin so that no input starves another.
    mutating func receive() -> ReceiveAction {
        if let closedError { return .fail(closedError) }
        let count = lanes.count
        for offset in 0..<count {
            let index = (nextLane + offset) % count
            guard !blocked[index], let message = lanes[index].queue.popFirst() else { continue }
            var producer: UnsafeContinuation<Void, any Error>?
            // A lane left above its capacity by a failover drains back to it first.
            if let parked = lanes[index].parkedProducer, lanes[index].queue.count < capacity {
                lanes[index].queue.append(parked.message)
                lanes[index].parkedProducer = nil
                producer = parked.continuation
            }
            nextLane = (index + 1) % count
            return .take((index, message), resumeProducer: producer)
        }
        return .empty
    }

    enum WaitAction {
        case waiting
        case resume(UnsafeContinuation<Delivery, any Error>, ReceiveAction)
    }

    /// Set by ``cancelWait()`` when no consumer was parked yet: the next wait ends at once.
    private var waitCancelled = false

    mutating func wait(continuation: UnsafeContinuation<Delivery, any Error>) -> WaitAction {
        let action = receive()
        if case .empty = action {
            if waitCancelled {
                waitCancelled = false
                return .resume(continuation, .fail(CancellationError()))
            }
            precondition(waitingConsumer == nil, "one consumer per inbox")
            waitingConsumer = continuation
            return .waiting
        }
        return .resume(continuation, action)
    }

    // MARK: Barrier alignment

    /// Stops taking from `lane` until ``unblockAll()``; its producer fills it and then waits.
    mutating func block(_ lane: Int) {
        blocked[lane] = true
    }

    /// Takes from every lane again. Called by the consumer itself (never while it waits).
    mutating func unblockAll() {
        for index in blocked.indices { blocked[index] = false }
    }

    /// Ends the consumer's wait with `CancellationError` without closing the inbox (its
    /// producers go on): the parked consumer is returned to be resumed, or, if it has not
    /// parked yet, its coming wait ends at once.
    mutating func cancelWait() -> UnsafeContinuation<Delivery, any Error>? {
        guard let consumer = waitingConsumer else {
            waitCancelled = true
            return nil
        }
        waitingConsumer = nil
        return consumer
    }

    /// Forgets a ``cancelWait()`` that found no consumer (the consumer took a message instead).
    mutating func clearCancelledWait() {
        waitCancelled = false
    }

    // MARK: Shutting down

    /// Fails every waiter and every later call with `error`; buffered messages are dropped.
    mutating func close(with error: any Error) -> (consumer: UnsafeContinuation<Delivery, any Error>?, producers: [UnsafeContinuation<Void, any Error>]) {
        guard closedError == nil else { return (nil, []) }
        closedError = error
        let consumer = waitingConsumer
        waitingConsumer = nil
        var producers: [UnsafeContinuation<Void, any Error>] = []
        for index in lanes.indices {
            if let parked = lanes[index].parkedProducer { producers.append(parked.continuation) }
            lanes[index] = Lane()
        }
        return (consumer, producers)
    }
}
