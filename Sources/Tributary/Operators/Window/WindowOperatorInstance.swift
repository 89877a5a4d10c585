/// One instance of a window operator: per key, the open windows and their accumulators (a
/// keyed state table of ``WindowPanes``), and a timer per window at its last instant (plus one
/// at the end of its allowed lateness). Built on the same runtime pieces as keyed process
/// functions: records add to windows; the watermark (or the processing-time clock) fires
/// their timers, which emit the windows' results; state and timers go into checkpoints and
/// are redistributed by key on restore.
///
/// Adding a record cannot fail (the accumulator functions do not throw), so a record is in
/// all its windows or, if its call is cut short by a failure elsewhere, retried whole. Making
/// a window's result can throw: the window then stays as it was and its timer pending, for
/// the supervisor to retry (or, when it skips, to drop the window).
@usableFromInline
final class WindowOperatorInstance<Key: Hashable & Codable & Sendable, Input, Accumulator: Codable & Sendable, Output> {
    @usableFromInline typealias Panes = WindowPanes<Accumulator>

    @usableFromInline let assigner: WindowAssigner
    @usableFromInline let lateness: Duration
    @usableFromInline let key: @Sendable (Input) throws -> Key
    @usableFromInline let eventTime: (@Sendable (Input) -> Duration)?
    @usableFromInline let initial: Accumulator
    @usableFromInline let add: @Sendable (inout Accumulator, Input) -> Void
    @usableFromInline let merge: (@Sendable (inout Accumulator, Accumulator) -> Void)?
    @usableFromInline let result: @Sendable (Key, TimeWindow, Accumulator) throws -> [Output]
    @usableFromInline let input: BatchBuffer<Input>
    @usableFromInline let output: BatchBuffer<Output>
    @usableFromInline let processingTime: @Sendable () -> Duration
    @usableFromInline let warn: @Sendable (String) -> Void

    /// `nil` only while a batch or a firing has the table out.
    @usableFromInline var tableSlot: KeyedStateTable<Key, Panes>? = KeyedStateTable()
    @usableFromInline var table: KeyedStateTable<Key, Panes> {
        get { tableSlot ?? KeyedStateTable() }
        set { tableSlot = newValue }
    }
    @usableFromInline var timers = TimerQueue<Key>()
    @usableFromInline var watermark: Duration?
    /// The timer whose window failed to make its result last, put back in the queue.
    @usableFromInline var failedTimer: TimerQueue<Key>.Timer?
    /// Records that came after every window they belong to was closed (past its allowed
    /// lateness), so were left out.
    @usableFromInline var lateRecordsDropped = 0
    /// Where late records go when a side output takes them (``WindowedStream/sideOutputLateData(_:)``):
    /// emitted as this output instead of dropped.
    @usableFromInline let late: (@Sendable (Input) -> Output)?

    @usableFromInline
    init(
        assigner: WindowAssigner, lateness: Duration, key: @escaping @Sendable (Input) throws -> Key, eventTime: (@Sendable (Input) -> Duration)?,
        initial: Accumulator, add: @escaping @Sendable (inout Accumulator, Input) -> Void,
        merge: (@Sendable (inout Accumulator, Accumulator) -> Void)?,
        result: @escaping @Sendable (Key, TimeWindow, Accumulator) throws -> [Output], input: BatchBuffer<Input>,
        output: BatchBuffer<Output>, context: StepContext, late: (@Sendable (Input) -> Output)? = nil
    ) {
        self.late = late
        self.assigner = assigner
        self.lateness = lateness
        self.key = key
        self.eventTime = eventTime
        self.initial = initial
        self.add = add
        self.merge = merge
        self.result = result
        self.input = input
        self.output = output
        self.processingTime = context.processingTime
        let name = context.operatorName
        let jobID = context.jobID
        let emit = context.emit
        self.warn = { message in emit(JobEvent(kind: .warning, jobID: jobID, operatorName: name, message: message)) }
    }

    @inlinable
    func takeTable() -> KeyedStateTable<Key, Panes> {
        guard let table = tableSlot else { return KeyedStateTable() }
        tableSlot = nil
        return table
    }

    /// Whether `window` is past its allowed lateness: the watermark has passed its last
    /// instant plus the lateness (never, for processing time).
    @inlinable
    func isClosed(_ window: TimeWindow) -> Bool {
        guard assigner.time == .eventTime, let watermark else { return false }
        return window.maxTimestamp + lateness <= watermark
    }

    /// Whether `window` has fired already (a record for it is late but within lateness).
    @inlinable
    func hasFired(_ window: TimeWindow) -> Bool {
        guard assigner.time == .eventTime, let watermark else { return false }
        return window.maxTimestamp <= watermark
    }

    @inlinable
    func process(from start: Int) -> StepOutcome {
        withBatchFrame(input, output, from: start) { records, results in
            var table = takeTable()
            defer { tableSlot = table }
            let now = assigner.time == .processingTime ? processingTime() : .zero
            var index = start
            while index < records.count {
                let record = records[index]
                let recordKey: Key
                do {
                    recordKey = try key(record)
                } catch {
                    return RecordFailure(index, error)
                }
                assign(record, at: eventTime.map { $0(record) } ?? now, key: recordKey, &table, &results)
                index += 1
            }
            return nil
        }
    }

    /// Adds `record` to its windows. A window that fired already (the record is late, within
    /// the allowed lateness) fires again at the next watermark, with the record in it: through
    /// its timer, so adding a record never fails half-way and never emits twice.
    @inlinable
    func assign(_ record: Input, at time: Duration, key: Key, _ table: inout KeyedStateTable<Key, Panes>, _ results: inout [Output]) {
        if assigner.isMerging {
            assignMerging(record, at: time, key: key, &table, &results)
            return
        }
        var added = false
        assigner.forEachWindow(containing: time) { window in
            guard !isClosed(window) else { return }
            added = true
            // In place (no copy of the key's windows per record).
            let isNew = addRecord(record, to: window, in: &table[key, default: Panes()])
            if isNew {
                schedule(window, key: key)
            } else if hasFired(window) {
                timers.register(.init(key: key, time: window.maxTimestamp, domain: assigner.time))
            }
        }
        if !added { lateRecord(record, &results) }
    }

    /// Adds `record` to `window` in `panes`; returns whether the window is new.
    @inlinable
    func addRecord(_ record: Input, to window: TimeWindow, in panes: inout Panes) -> Bool {
        if let slot = panes.index(of: window) {
            add(&panes.accumulators[slot], record)
            return false
        }
        var accumulator = initial
        add(&accumulator, record)
        panes.windows.append(window)
        panes.accumulators.append(accumulator)
        return true
    }

    /// Sessions: the record's window merges with every window of its key it overlaps or
    /// touches; their accumulators merge and the merged window's timers replace theirs.
    @inlinable
    func assignMerging(_ record: Input, at time: Duration, key: Key, _ table: inout KeyedStateTable<Key, Panes>, _ results: inout [Output]) {
        var window: TimeWindow?
        assigner.forEachWindow(containing: time) { window = $0 }
        guard let window else { return }
        if isClosed(window) {
            lateRecord(record, &results)
            return
        }
        mergeSession(record, window: window, key: key, into: &table[key, default: Panes()])
    }

    @inlinable
    func mergeSession(_ record: Input, window: TimeWindow, key: Key, into panes: inout Panes) {
        var merged = window
        var accumulator = initial
        add(&accumulator, record)
        var replaced: [TimeWindow] = []
        var slot = 0
        while slot < panes.windows.count {
            let other = panes.windows[slot]
            guard other.touches(merged) else {
                slot += 1
                continue
            }
            merged = TimeWindow(start: min(merged.start, other.start), end: max(merged.end, other.end))
            var combined = panes.accumulators[slot]
            merge?(&combined, accumulator)
            accumulator = combined
            replaced.append(other)
            panes.remove(at: slot)
        }
        panes.windows.append(merged)
        panes.accumulators.append(accumulator)
        for old in replaced { unschedule(old, key: key, keeping: panes) }
        schedule(merged, key: key)
    }

    /// A record too late for every window it belongs to: to the side output, if one takes
    /// late records, or dropped and counted.
    @inlinable
    func lateRecord(_ record: Input, _ results: inout [Output]) {
        if let late {
            results.append(late(record))
        } else {
            dropLate()
        }
    }

    @inlinable
    func dropLate() {
        lateRecordsDropped += 1
        if lateRecordsDropped == 1 {
            warn("a record arrived after every window it belongs to had closed (the watermark had passed it plus the allowed lateness); late records are left out and counted in the job's result")
        }
    }

    /// The window's timers: when it fires, and when its allowed lateness ends.
    @inlinable
    func schedule(_ window: TimeWindow, key: Key) {
        timers.register(.init(key: key, time: window.maxTimestamp, domain: assigner.time))
        if lateness > .zero { timers.register(.init(key: key, time: window.maxTimestamp + lateness, domain: assigner.time)) }
    }

    /// Deletes the timers of a window that is gone, except those a window still in `panes`
    /// has at the same time (a timer is one per key and time).
    @inlinable
    func unschedule(_ window: TimeWindow, key: Key, keeping panes: Panes) {
        for time in [window.maxTimestamp, window.maxTimestamp + lateness] {
            let needed = panes.windows.contains { $0.maxTimestamp == time || $0.maxTimestamp + lateness == time }
            if !needed { timers.delete(.init(key: key, time: time, domain: assigner.time)) }
        }
    }

    /// Fires, in time order, the window timers due at `bound` (`nil`: all): a window's first
    /// timer emits its result, its last (the end of its allowed lateness, or the same one
    /// without lateness) removes it.
    @inlinable
    func fire(_ domain: TimeDomain, upTo bound: Duration?) -> StepOutcome {
        var results = output.take()
        var table = takeTable()
        defer {
            tableSlot = table
            output.items = results
        }
        let before = results.count
        while let (timer, sequence) = timers.peek(domain), bound.map({ timer.time <= $0 }) ?? true {
            timers.removePeeked(timer)
            guard var panes = table[timer.key] else { continue }
            let mark = results.count
            var slot = 0
            do {
                while slot < panes.windows.count {
                    let window = panes.windows[slot]
                    let due = window.maxTimestamp == timer.time
                    if due { results.append(contentsOf: try result(timer.key, window, panes.accumulators[slot])) }
                    // Closed: its last timer fired, or it fired under the final watermark.
                    if window.maxTimestamp + lateness == timer.time || (due && bound == nil) {
                        panes.remove(at: slot)
                    } else {
                        slot += 1
                    }
                }
            } catch {
                results.removeSubrange(mark...)
                timers.reinstate(timer, sequence: sequence)
                failedTimer = timer
                return .failed(
                    index: 0, recordsIn: 0, recordsOut: mark - before, error: error,
                    record: "the window ending at \(timer.time + .nanoseconds(1)) for key \(describeRecord(timer.key))")
            }
            if panes.isEmpty {
                table[timer.key] = nil
            } else {
                table.updateValue(panes, forKey: timer.key)
            }
        }
        return .completed(recordsIn: 0, recordsOut: results.count - before)
    }

    @usableFromInline
    func advanceWatermark(to watermark: Duration) -> StepOutcome {
        if self.watermark.map({ watermark > $0 }) ?? true { self.watermark = watermark }
        guard assigner.time == .eventTime else { return .completed(recordsIn: 0, recordsOut: 0) }
        return fire(.eventTime, upTo: watermark)
    }

    @usableFromInline
    var nextProcessingTime: Duration? { timers.peek(.processingTime)?.timer.time }

    @usableFromInline
    func dropFailed() {
        // Skipping a window that cannot make its result drops the window.
        if let failedTimer {
            var table = takeTable()
            if var panes = table[failedTimer.key] {
                var dropped: [TimeWindow] = []
                while let slot = panes.windows.firstIndex(where: { $0.maxTimestamp == failedTimer.time }) {
                    dropped.append(panes.windows[slot])
                    panes.remove(at: slot)
                }
                for window in dropped { unschedule(window, key: failedTimer.key, keeping: panes) }
                if panes.isEmpty { table[failedTimer.key] = nil } else { table.updateValue(panes, forKey: failedTimer.key) }
            } else {
                timers.delete(failedTimer)
            }
            tableSlot = table
        }
        failedTimer = nil
    }

    /// The input ended: every window still open fires, in time order per clock — event-time
    /// ones under the final watermark, processing-time ones as if their time had come (their
    /// input is complete).
    @usableFromInline
    func endOfInput() -> StepOutcome {
        fire(assigner.time, upTo: nil)
    }

    // Inlinable, like restore: the table's encoding is then specialised for its types.
    @inlinable
    func snapshot(epoch: Int64) throws -> SnapshotPart? {
        let table = self.table
        return KeyedProcessSnapshot.part(encodeTable: { try WindowTableCodec.encode(table) }, timers: timers, watermark: watermark)
    }

    @inlinable
    func restore(parts: [Int: [UInt8]], instance: Int, parallelism: Int) throws {
        var restored = KeyedStateTable<Key, Panes>()
        defer { table = restored }
        (timers, watermark) = try KeyedProcessSnapshot<Key>.restore(parts, instance: instance, parallelism: parallelism) { bytes, keep in
            try WindowTableCodec.decode(bytes, into: &restored, keep: keep)
        }
    }
}
