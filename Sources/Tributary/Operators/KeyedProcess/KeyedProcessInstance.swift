/// One instance of a keyed process function: the per-key state table, the timers, and the
/// loops over records and due timers. Its methods are inlinable so the builder specialises
/// them for the caller's types.
@usableFromInline
final class KeyedProcessInstance<Key: Hashable & Codable & Sendable, Input, State: Codable & Sendable, Output> {
    @usableFromInline typealias Context = KeyedProcessContext<Key, State, Output>

    @usableFromInline let initial: State
    @usableFromInline let key: @Sendable (Input) throws -> Key
    @usableFromInline let handle: @Sendable (inout Context, Input) throws -> Void
    @usableFromInline let onTimer: @Sendable (inout Context, FiredTimer) throws -> Void
    @usableFromInline let input: BatchBuffer<Input>
    @usableFromInline let output: BatchBuffer<Output>
    @usableFromInline let clock: @Sendable () -> Duration
    @usableFromInline let warn: @Sendable (String) -> Void
    /// `nil` only while a batch or a firing has the table out.
    @usableFromInline var tableSlot: KeyedStateTable<Key, State>? = KeyedStateTable()
    /// The state table (for snapshots, restores and tests).
    @usableFromInline var table: KeyedStateTable<Key, State> {
        get { tableSlot ?? KeyedStateTable() }
        set { tableSlot = newValue }
    }
    @usableFromInline var timers = TimerQueue<Key>()
    /// Reused for the timer changes of each call (no allocation per record).
    @usableFromInline var changes: [KeyedTimers.Change] = []
    /// The timer whose handler failed last, put back in the queue.
    @usableFromInline var failedTimer: TimerQueue<Key>.Timer?

    /// The event-time watermark this instance has seen (`nil`: none yet).
    @usableFromInline var watermark: Duration?

    /// Timers fired by this instance (for the end of the input's budget).
    @usableFromInline var fired = 0

    /// Whether calls change the key's state in place instead of a copy of it. Only for the
    /// runtime's own handlers (joins), which throw before they change anything: a throwing
    /// call then puts back the state it was given, unchanged. A user's handler may throw after
    /// changing the state, so it gets a copy (O(state) per call).
    @usableFromInline let inPlace: Bool

    @usableFromInline
    init(
        initial: State, key: @escaping @Sendable (Input) throws -> Key, handle: @escaping @Sendable (inout Context, Input) throws -> Void,
        onTimer: @escaping @Sendable (inout Context, FiredTimer) throws -> Void, input: BatchBuffer<Input>, output: BatchBuffer<Output>,
        context: StepContext, inPlace: Bool = false
    ) {
        self.inPlace = inPlace
        self.initial = initial
        self.key = key
        self.handle = handle
        self.onTimer = onTimer
        self.input = input
        self.output = output
        self.clock = context.processingTime
        let name = context.operatorName
        let jobID = context.jobID
        let emit = context.emit
        self.warn = { message in emit(JobEvent(kind: .warning, jobID: jobID, operatorName: name, message: message)) }
    }

    /// Moves the table out so a loop mutates it in place (no exclusivity check per record).
    @inlinable
    func takeTable() -> KeyedStateTable<Key, State> {
        guard let table = tableSlot else { return KeyedStateTable() }
        tableSlot = nil
        return table
    }

    /// Runs `body` with a context for `key`; applies its state, output and timer changes only
    /// if it returns. Returns the error it threw.
    @inlinable
    func call(_ key: Key, _ table: inout KeyedStateTable<Key, State>, _ results: inout [Output], _ body: (inout Context) throws -> Void) -> (any Error)? {
        let mark = results.count
        // In place: the state leaves the table so the context holds its only reference.
        var taken = inPlace ? table.removeValue(forKey: key) : nil
        let had = taken != nil
        var context = Context(
            key: key, state: inPlace ? (taken ?? initial) : (table[key] ?? initial), initial: initial, outputs: [],
            timers: KeyedTimers(changes: []), clock: clock, watermark: watermark)
        taken = nil
        swap(&context.outputs, &results)
        swap(&context.timers.changes, &changes)
        do {
            try body(&context)
            // Only the side-output variant of process takes these off the context first.
            if let sent = context.sideRecords.first { throw UndeclaredSideOutputError(tag: sent.tag, declared: [:]) }
        } catch {
            swap(&context.outputs, &results)
            swap(&context.timers.changes, &changes)
            results.removeSubrange(mark...)
            changes.removeAll(keepingCapacity: true)
            if had { table.updateValue(context.stateValue, forKey: key) }
            return error
        }
        swap(&context.outputs, &results)
        swap(&context.timers.changes, &changes)
        if context.cleared {
            table[key] = nil
        } else if context.written || (inPlace && had) {
            table.updateValue(context.stateValue, forKey: key)
        }
        if !changes.isEmpty {
            for change in changes {
                switch change {
                case .register(let time, let domain): timers.register(.init(key: key, time: time, domain: domain))
                case .delete(let time, let domain): timers.delete(.init(key: key, time: time, domain: domain))
                }
            }
            changes.removeAll(keepingCapacity: true)
        }
        return nil
    }

    @inlinable
    func process(from start: Int) -> StepOutcome {
        withBatchFrame(input, output, from: start) { records, results in
            var table = takeTable()
            defer { tableSlot = table }
            var index = start
            while index < records.count {
                let record = records[index]
                let recordKey: Key
                do {
                    recordKey = try key(record)
                } catch {
                    return RecordFailure(index, error)
                }
                if let error = call(recordKey, &table, &results, { try handle(&$0, record) }) {
                    return RecordFailure(index, error)
                }
                index += 1
            }
            return nil
        }
    }

    /// Fires, in time order, the timers of `domain` due at `bound` (`nil`: all).
    ///
    /// Event time follows the watermark, as in Flink: a timer a handler registers for a time
    /// the watermark has passed fires in the same call, in its place in time order (so the
    /// order never depends on where a call was cut by a failure). Processing-time timers a
    /// handler registers meanwhile wait for the next call, also when they are due already, so
    /// a handler that re-arms itself at "now" lets records through between firings. Past
    /// `limit` firings the call fails with ``TimerCascadeError``.
    @inlinable
    func fire(_ domain: TimeDomain, upTo bound: Duration?, limit: Int = .max) -> StepOutcome {
        var results = output.take()
        var table = takeTable()
        var setAside: [(timer: TimerQueue<Key>.Timer, sequence: UInt64)] = []
        defer {
            for (timer, sequence) in setAside { timers.push(timer, sequence: sequence) }
            tableSlot = table
            output.items = results
        }
        let before = results.count
        let newest = domain == .processingTime ? timers.nextSequence : .max
        while let (timer, sequence) = timers.peek(domain), bound.map({ timer.time <= $0 }) ?? true {
            guard sequence <= newest else {
                timers.popPeeked(timer)
                setAside.append((timer, sequence))
                continue
            }
            guard fired < limit else {
                return .failed(
                    index: 0, recordsIn: 0, recordsOut: results.count - before,
                    error: TimerCascadeError(pending: timers.count(domain), fired: fired),
                    record: bound.map { "the watermark at \($0)" } ?? "the final watermark")
            }
            timers.removePeeked(timer)
            fired += 1
            let firing = FiredTimer(time: timer.time, domain: domain)
            if let error = call(timer.key, &table, &results, { try onTimer(&$0, firing) }) {
                timers.reinstate(timer, sequence: sequence)
                failedTimer = timer
                return .failed(
                    index: 0, recordsIn: 0, recordsOut: results.count - before, error: error,
                    record: "\(domain == .eventTime ? "event-time" : "processing-time") timer at \(timer.time) for key \(describeRecord(timer.key))")
            }
        }
        return .completed(recordsIn: 0, recordsOut: results.count - before)
    }

    /// The watermark advanced: fires, in time order, the event-time timers at or before it
    /// (also those their handlers register for times it has passed), as in Flink.
    @usableFromInline
    func advanceWatermark(to watermark: Duration) -> StepOutcome {
        if self.watermark.map({ watermark > $0 }) ?? true { self.watermark = watermark }
        // A constant budget: counting the pending timers would cost a pass over them per advance.
        return fire(.eventTime, upTo: watermark, limit: fired + 10_000_000)
    }

    @usableFromInline
    var nextProcessingTime: Duration? { timers.peek(.processingTime)?.timer.time }

    @usableFromInline
    func dropFailed() {
        if let failedTimer { timers.delete(failedTimer) }
        failedTimer = nil
    }

    /// The final watermark: every event-time timer fires, including those its handlers
    /// register on the way. Processing-time timers still pending will not fire; an event
    /// says how many. Handlers that keep registering new timers fail the operator
    /// (``TimerCascadeError``) once they have fired a thousand times as many timers as were
    /// pending, and at least 100,000.
    @usableFromInline
    func endOfInput() -> StepOutcome {
        let budget = fired + max(100_000, timers.count(.eventTime) * 1_000)
        let outcome = fire(.eventTime, upTo: nil, limit: budget)
        guard case .completed = outcome else { return outcome }
        let waiting = timers.count(.processingTime)
        if waiting > 0 {
            warn("\(waiting) processing-time timers were pending when the input ended; they did not fire")
        }
        return outcome
    }

    // Inlinable, like restore: the table's encoding is then specialised for its types.
    @inlinable
    func snapshot(epoch: Int64) throws -> SnapshotPart? {
        let table = self.table
        return KeyedProcessSnapshot.part(encodeTable: { try KeyedStateCodec.encode(table) }, timers: timers, watermark: watermark)
    }

    /// Loads the keys (and their timers) this instance owns from every instance's part.
    @inlinable
    func restore(parts: [Int: [UInt8]], instance: Int, parallelism: Int) throws {
        // Decoded into a local: through the `table` property every part would copy it.
        var restored = KeyedStateTable<Key, State>()
        defer { table = restored }
        (timers, watermark) = try KeyedProcessSnapshot<Key>.restore(parts, instance: instance, parallelism: parallelism) { bytes, keep in
            try KeyedStateCodec.decode(bytes, into: &restored, keep: keep)
        }
    }
}

/// The handlers of a keyed process function kept registering event-time timers the watermark
/// had already passed (at the end of the input: any), so it would never be done firing them.
@usableFromInline
struct TimerCascadeError: Error, CustomStringConvertible {
    let pending: Int
    let fired: Int

    @usableFromInline
    init(pending: Int, fired: Int) {
        self.pending = pending
        self.fired = fired
    }

    @usableFromInline
    var description: String {
        "the onTimer handler kept registering new event-time timers that the watermark had already passed (\(fired) fired, \(pending) still pending): a handler must not register such a timer every time it fires"
    }
}
