/// A keyed stream cut into windows (``KeyedStream/window(_:eventTime:)``): end it with
/// ``aggregate(initial:add:merge:result:)``, ``reduce(_:)`` or ``process(_:)``, which emit
/// each window's result when the window fires.
///
/// An event-time window fires once the watermark (see ``DataStream/withTimestamps(_:watermarks:)``)
/// passes its last instant, and at the latest when the input ends (the final watermark fires
/// every window still open). A processing-time window fires when the job's processing time
/// reaches its end, and when the input ends. Window state and timers are part of checkpoints:
/// after a restore each window's result is emitted once, as in a run without failures.
///
/// A record that arrives after a window it belongs to fired is *late*: within
/// ``allowedLateness(_:)`` it is added and the window fires again, with the record in it;
/// after that it is left out, counted in the operator's
/// ``JobResult/OperatorMetrics/lateRecordsDropped`` and reported by a `WARNING` event.
public struct WindowedStream<Key: Hashable & Codable & Sendable, Element: Sendable>: Sendable {
    @usableFromInline let keyed: KeyedStream<Key, Element>
    @usableFromInline let assigner: WindowAssigner
    @usableFromInline let eventTime: (@Sendable (Element) -> Duration)?
    @usableFromInline var lateness: Duration = .zero
    /// The side output that takes late records, if any.
    @usableFromInline var lateTag: String?

    @usableFromInline
    init(keyed: KeyedStream<Key, Element>, assigner: WindowAssigner, eventTime: (@Sendable (Element) -> Duration)?) {
        self.keyed = keyed
        self.assigner = assigner
        self.eventTime = eventTime
    }

    /// Keeps each event-time window open for `lateness` after it fired: a late record within it
    /// updates the window, which fires again. A negative `lateness` makes `submit()` throw.
    @inlinable
    public func allowedLateness(_ lateness: Duration) -> WindowedStream {
        var copy = self
        copy.lateness = lateness
        return copy
    }

    /// Sends records too late for every window they belong to (past the allowed lateness) to
    /// the side output `tag` instead of dropping them; read it with ``DataStream/sideOutput(_:)``
    /// on the window's result stream. Records sent there are not counted in
    /// ``JobResult/OperatorMetrics/lateRecordsDropped``.
    ///
    /// ```swift
    /// let late = OutputTag<Click>("late")
    /// let counts = clicks.keyBy { $0.page }.window(.tumbling(size: .seconds(60)), eventTime: { $0.time })
    ///     .sideOutputLateData(late)
    ///     .aggregate(initial: 0, add: { count, _ in count += 1 }) { page, window, count in (page, window.start, count) }
    /// let lateClicks = counts.sideOutput(late)
    /// ```
    @inlinable
    public func sideOutputLateData(_ tag: OutputTag<Element>) -> WindowedStream {
        var copy = self
        copy.lateTag = tag.name
        return copy
    }

    /// Folds each window's records into an accumulator, one record at a time (the records are
    /// not kept), and emits `result` when the window fires.
    ///
    /// - Parameters:
    ///   - initial: the accumulator of an empty window.
    ///   - add: folds one record in.
    ///   - merge: folds one window's accumulator into another's; session windows need it (they
    ///     merge when a record bridges them), other windows never call it.
    ///   - result: the window's output, given its key, the window and its accumulator. If it
    ///     throws, the window is left as it was for the operator's supervisor (a restart tries
    ///     again; skipping drops the window).
    @inlinable
    public func aggregate<Accumulator: Codable & Sendable, Output: Sendable>(
        initial: Accumulator, add: @escaping @Sendable (inout Accumulator, Element) -> Void,
        merge: (@Sendable (inout Accumulator, Accumulator) -> Void)? = nil,
        result: @escaping @Sendable (Key, TimeWindow, Accumulator) throws -> Output
    ) -> DataStream<Output> {
        build(label: "window", initial: initial, add: add, merge: merge) { key, window, accumulator in [try result(key, window, accumulator)] }
    }

    /// Combines each window's records pairwise and emits the combination when it fires.
    @inlinable
    public func reduce(_ combine: @escaping @Sendable (Element, Element) -> Element) -> DataStream<Element> where Element: Codable {
        build(
            label: "windowReduce", initial: Element?.none,
            add: { accumulator, record in accumulator = accumulator.map { combine($0, record) } ?? record },
            merge: { accumulator, other in
                if let other { accumulator = accumulator.map { combine($0, other) } ?? other }
            },
            result: { _, _, accumulator in accumulator.map { [$0] } ?? [] })
    }

    /// Keeps each window's records, in arrival order, and hands them all to `body` when the
    /// window fires; `body` returns any number of outputs. If it throws, the window is left
    /// as it was for the operator's supervisor.
    @inlinable
    public func process<Output: Sendable>(
        _ body: @escaping @Sendable (_ key: Key, _ window: TimeWindow, _ records: [Element]) throws -> [Output]
    ) -> DataStream<Output> where Element: Codable {
        build(
            label: "windowProcess", initial: [Element](), add: { records, record in records.append(record) },
            merge: { records, other in records.append(contentsOf: other) }, result: body)
    }

    @inlinable
    func build<Accumulator: Codable & Sendable, Output: Sendable>(
        label: String, initial: Accumulator, add: @escaping @Sendable (inout Accumulator, Element) -> Void,
        merge: (@Sendable (inout Accumulator, Accumulator) -> Void)?,
        result: @escaping @Sendable (Key, TimeWindow, Accumulator) throws -> [Output]
    ) -> DataStream<Output> {
        let environment = keyed.environment
        if let problem = WindowProblem.of(assigner: assigner, lateness: lateness, hasEventTime: eventTime != nil, hasMerge: merge != nil) {
            environment.recordProblem(PipelineError(code: .invalidArgument, message: "window(\(assigner)): \(problem)"))
        }
        guard let lateTag else {
            return node(label: label, initial: initial, add: add, merge: merge, result: result, late: nil)
        }
        // With a side output the operator emits SideOutputItems; the returned stream is a stage
        // after it that hands the main records on.
        return node(
            label: label, initial: initial, add: add, merge: merge,
            result: { key, window, accumulator in try result(key, window, accumulator).map { SideOutputItem.main($0) } },
            late: { SideOutputItem<Output>.side(lateTag, $0) }
        ).mainOutput(tags: [lateTag: Element.self])
    }

    @inlinable
    func node<Accumulator: Codable & Sendable, Output: Sendable>(
        label: String, initial: Accumulator, add: @escaping @Sendable (inout Accumulator, Element) -> Void,
        merge: (@Sendable (inout Accumulator, Accumulator) -> Void)?,
        result: @escaping @Sendable (Key, TimeWindow, Accumulator) throws -> [Output], late: (@Sendable (Element) -> Output)?
    ) -> DataStream<Output> {
        let environment = keyed.environment
        let (assigner, lateness, key, eventTime) = (self.assigner, self.lateness, keyed.key, self.eventTime)
        let node = TransformNode<Element, Output>(label: label, input: keyed.inputID, partitioner: keyed.partitioner, makeParts: {
            input, output, context in
            let instance = WindowOperatorInstance<Key, Element, Accumulator, Output>(
                assigner: assigner, lateness: lateness, key: key, eventTime: assigner.time == .eventTime ? eventTime : nil,
                initial: initial, add: add, merge: merge, result: result, input: input, output: output, context: context, late: late)
            return StepParts(
                body: .sync { start in instance.process(from: start) }, snapshot: instance.snapshot, restore: instance.restore,
                timers: StepTimers(
                    nextProcessingTime: { instance.nextProcessingTime }, fire: { now in instance.fire(.processingTime, upTo: now) },
                    dropFailed: instance.dropFailed),
                endOfInput: instance.endOfInput, advanceWatermark: { instance.advanceWatermark(to: $0) },
                lateRecordsDropped: { instance.lateRecordsDropped })
        })
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }
}

extension KeyedStream {
    /// Cuts each key's records into windows of time.
    ///
    /// - Parameters:
    ///   - assigner: ``WindowAssigner/tumbling(size:time:)``, ``WindowAssigner/sliding(size:slide:time:)``
    ///     or ``WindowAssigner/session(gap:time:)``; event time unless `time: .processingTime`.
    ///   - eventTime: the record's event time, for event-time windows (usually the same
    ///     function as the stream's ``DataStream/withTimestamps(_:watermarks:)``). Without it,
    ///     an event-time window makes `submit()` throw a ``PipelineError``.
    @inlinable
    public func window(_ assigner: WindowAssigner, eventTime: (@Sendable (Element) -> Duration)? = nil) -> WindowedStream<Key, Element> {
        WindowedStream(keyed: self, assigner: assigner, eventTime: eventTime)
    }
}

/// What makes a window operator impossible to run, in words.
@usableFromInline
enum WindowProblem {
    @usableFromInline
    static func of(assigner: WindowAssigner, lateness: Duration, hasEventTime: Bool, hasMerge: Bool) -> String? {
        if let problem = assigner.problem { return problem }
        if lateness < .zero { return "allowedLateness(\(lateness)) must not be negative" }
        if assigner.time == .eventTime, !hasEventTime {
            return "event-time windows need each record's time: pass eventTime: (for example { $0.time }), or use time: .processingTime"
        }
        if assigner.isMerging, !hasMerge { return "session windows merge: pass merge: to aggregate, which combines two windows' accumulators" }
        return nil
    }
}
