extension KeyedStream {
    /// Runs `process` for each record with its key's state, emitting any number of records,
    /// and `onTimer` for each timer the key registered, when it is due.
    ///
    /// ```swift
    /// // A user's session ends after 30 s without a click: emit its click count then.
    /// struct Session: Codable, Sendable { var clicks = 0; var quietAt: Duration? }
    ///
    /// clicks.keyBy { $0.user }.process(initial: Session()) { context, click in
    ///     if let old = context.state.quietAt { context.timers.delete(at: old, .processingTime) }
    ///     let quietAt = context.currentProcessingTime + .seconds(30)
    ///     context.state.clicks += 1
    ///     context.state.quietAt = quietAt
    ///     context.timers.register(at: quietAt, .processingTime)
    /// } onTimer: { context, _ in
    ///     context.emit(SessionEnded(user: context.key, clicks: context.state.clicks))
    ///     context.clearState()
    /// }
    /// ```
    ///
    /// - Important: a call that throws changes nothing: the key's state, its timers and the
    ///   records it emitted are as before the call, so a retried record or timer is exact. State
    ///   and pending timers are part of checkpoints and restored with their keys.
    /// - Timers fire in time order per domain. Event-time timers fire once the watermark passes
    ///   them (see ``DataStream/withTimestamps(_:watermarks:)``) and, at the latest, when the
    ///   input ends (the final watermark), processing-time timers
    ///   when the job's clock reaches them, also while no records arrive. Processing-time
    ///   timers still pending when the input ends do not fire (a `WARNING` event counts them).
    @inlinable
    public func process<State: Codable & Sendable, Output: Sendable>(
        initial: State,
        _ process: @escaping @Sendable (inout KeyedProcessContext<Key, State, Output>, Element) throws -> Void,
        onTimer: @escaping @Sendable (inout KeyedProcessContext<Key, State, Output>, FiredTimer) throws -> Void = { _, _ in }
    ) -> DataStream<Output> {
        keyedProcess(label: "process", initial: initial, process, onTimer: onTimer)
    }

    /// ``process(initial:_:onTimer:)`` with side outputs: besides its main records, the
    /// function sends records to the side outputs it declares, with
    /// ``KeyedProcessContext/output(_:_:)``; read each with ``DataStream/sideOutput(_:)`` on
    /// the returned stream.
    ///
    /// ```swift
    /// let invalid = OutputTag<Bid>("invalid")
    /// let totals = bids.keyBy { $0.auction }.process(initial: 0, sideOutputs: [invalid]) { context, bid in
    ///     guard bid.price > 0 else { return context.output(invalid, bid) }
    ///     context.state += bid.price
    ///     context.emit(Total(auction: context.key, sum: context.state))
    /// }
    /// totals.sideOutput(invalid).sink(FileSink(path: "invalid-bids.txt"))
    /// ```
    ///
    /// - Important: side records have the main records' exactly-once guarantee: a call that
    ///   throws sends none, and after a restore each is sent once. A call that sends to a tag
    ///   not in `sideOutputs` (or with another value type) fails with an error that names it.
    ///   Two tags of one name must have one value type, or `submit()` throws a
    ///   ``PipelineError``.
    @inlinable
    public func process<State: Codable & Sendable, Output: Sendable>(
        initial: State,
        sideOutputs: [any SideOutputTag],
        _ process: @escaping @Sendable (inout KeyedProcessContext<Key, State, Output>, Element) throws -> Void,
        onTimer: @escaping @Sendable (inout KeyedProcessContext<Key, State, Output>, FiredTimer) throws -> Void = { _, _ in }
    ) -> DataStream<Output> {
        let declared = DeclaredSideOutputs(sideOutputs, environment: environment)
        return keyedProcess(
            label: "process", initial: initial,
            { context, record in try context.forwarding(declared: declared.types) { try process(&$0, record) } },
            onTimer: { context, timer in try context.forwarding(declared: declared.types) { try onTimer(&$0, timer) } }
        ).mainOutput(tags: declared.valueTypes)
    }

    /// The keyed process operator under the name `label` (joins are keyed process functions).
    @inlinable
    func keyedProcess<State: Codable & Sendable, Output: Sendable>(
        label: String, initial: State,
        _ process: @escaping @Sendable (inout KeyedProcessContext<Key, State, Output>, Element) throws -> Void,
        onTimer: @escaping @Sendable (inout KeyedProcessContext<Key, State, Output>, FiredTimer) throws -> Void,
        inPlace: Bool = false
    ) -> DataStream<Output> {
        let key = self.key
        let node = TransformNode<Element, Output>(label: label, input: inputID, partitioner: partitioner, makeParts: {
            input, output, context in
            let instance = KeyedProcessInstance<Key, Element, State, Output>(
                initial: initial, key: key, handle: process, onTimer: onTimer, input: input, output: output, context: context,
                inPlace: inPlace)
            return StepParts(
                body: .sync { start in instance.process(from: start) }, snapshot: instance.snapshot, restore: instance.restore,
                timers: StepTimers(
                    nextProcessingTime: { instance.nextProcessingTime }, fire: { now in instance.fire(.processingTime, upTo: now) },
                    dropFailed: instance.dropFailed),
                endOfInput: instance.endOfInput, advanceWatermark: { instance.advanceWatermark(to: $0) })
        })
        return DataStream<Output>(environment: environment, nodeID: environment.addNode(node))
    }
}
