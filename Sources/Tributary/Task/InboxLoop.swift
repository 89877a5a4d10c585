extension InputBlueprint {
    /// The run loop of a vertex fed by other vertices: moves each batch into the head buffer and
    /// runs the chain, until every input lane has sent end-of-stream.
    func runInbox(_ inbox: any ClosableInbox, chain: Chain, isolation: isolated (any Actor)?) async throws {
        guard let inbox = inbox as? Inbox<Input>, let head = chain.head as? BatchBuffer<Input> else {
            throw RuntimeInvariantError("inbox type")
        }
        var openLanes = inbox.laneCount
        var handler = BarrierHandler(laneCount: inbox.laneCount)
        var watermarks = WatermarkTracker(laneCount: inbox.laneCount)
        func follow(_ action: WatermarkTracker.Action?) async throws {
            switch action {
            case .advance(let watermark): try await chain.advanceWatermark(watermark)
            case .advanceThenIdle(let watermark):
                try await chain.advanceWatermark(watermark)
                try await chain.forwardIdle()
            case .idle: try await chain.forwardIdle()
            case nil: break
            }
        }
        func process(_ records: [Input], hashes: [UInt], lane: Int) async throws {
            watermarks.records(lane: lane)
            head.items = records
            head.hashes = hashes
            try await chain.process()
        }
        var alignmentStarted: ContinuousClock.Instant?
        func apply(_ actions: [BarrierHandler.Action]) async throws {
            for action in actions {
                switch action {
                case .block(let lane):
                    inbox.block(lane: lane)
                    alignmentStarted = alignmentStarted ?? .now
                case .unblockAll:
                    inbox.unblockAll()
                case .snapshot(let id):
                    let alignment = alignmentStarted.map { ContinuousClock.now - $0 } ?? .zero
                    alignmentStarted = nil
                    try await chain.barrier(id, sourcePosition: nil, alignment: alignment)
                case .aborted:
                    alignmentStarted = nil
                }
            }
        }
        // Processing-time timers are due while the instance may be idle: a waker sleeping on
        // the job clock sends a wake-up on the control lane, and the loop fires them.
        let waker = chain.hasTimers ? TimerWaker(clock: chain.supervision.clock, wake: { [inbox] in inbox.wake() }) : nil
        defer { waker?.cancel() }
        while openLanes > 0 {
            if let waker {
                try await chain.fireDueTimers()
                waker.arm(chain.nextTimer)
            }
            let (lane, message) = try await inbox.receive()
            // A checkpoint abandoned meanwhile: stop aligning it, and never start aligning a
            // barrier of it that arrives later.
            if let abandoned = chain.checkpoints?.trigger.abandoned, abandoned > handler.lastHandled {
                try await apply(handler.abort(upTo: abandoned))
            }
            if lane == inbox.controlLane { continue }
            switch message {
            case .batch(let records):
                try await process(records, hashes: [], lane: lane)
            case .keyedBatch(let records, let hashes):
                try await process(records, hashes: hashes, lane: lane)
            case .barrier(let id):
                try await apply(handler.barrier(id, lane: lane))
            case .watermark(let watermark):
                try await follow(watermarks.watermark(watermark, lane: lane))
            case .idle:
                try await follow(watermarks.idle(lane: lane))
            case .endOfStream:
                openLanes -= 1
                try await apply(handler.endOfInput(lane: lane))
                // The last lane's end is the end of the input, which fires everything anyway.
                if openLanes > 0 { try await follow(watermarks.ended(lane: lane)) }
            }
        }
    }
}

