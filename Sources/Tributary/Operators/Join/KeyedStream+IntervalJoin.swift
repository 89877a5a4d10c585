extension KeyedStream {
    /// Joins each record of this stream (the left side) with the records of `other` that have
    /// the same key and an event time within `[lower, upper]` of its own: a pair `(l, r)` is
    /// emitted when `leftTime(l) + lower <= rightTime(r) <= leftTime(l) + upper`, once, when
    /// the second of the two arrives.
    ///
    /// ```swift
    /// // Bids on an auction within its first hour.
    /// auctions.keyBy { $0.id }.intervalJoin(
    ///     bids.keyBy { $0.auction }, between: .zero, and: .seconds(3600),
    ///     leftTime: { $0.dateTime }, rightTime: { $0.dateTime }
    /// ) { auction, bid in (auction.id, bid.price) }
    /// ```
    ///
    /// A record is kept (in keyed state, part of checkpoints) until the watermark passes the
    /// last event time a partner of it could have, so state stays bounded by the interval and
    /// the watermark's delay. Both inputs need watermarks (``DataStream/withTimestamps(_:watermarks:)``);
    /// the operator's watermark is the smaller of the two (without watermarks nothing is let go
    /// before the input ends). A record behind the watermark (at or before it) still meets the
    /// partners that are kept, and is kept itself only while a partner on time could still come.
    /// A `lower` above `upper`, or a
    /// stream of another environment, makes `submit()` throw a ``PipelineError``.
    /// - Parameters:
    ///   - other: the right side, keyed like this one.
    ///   - lower: the earliest a right record may be, relative to a left record's time.
    ///   - upper: the latest a right record may be, relative to a left record's time.
    ///   - leftTime: the event time of a left record.
    ///   - rightTime: the event time of a right record.
    ///   - join: the output for one pair. If it throws, the record that completed the pair
    ///     fails as a whole (none of its pairs are emitted and it is not kept), under the
    ///     operator's supervision policy.
    @inlinable
    public func intervalJoin<Right: Codable & Sendable, Output: Sendable>(
        _ other: KeyedStream<Key, Right>, between lower: Duration, and upper: Duration,
        leftTime: @escaping @Sendable (Element) -> Duration, rightTime: @escaping @Sendable (Right) -> Duration,
        _ join: @escaping @Sendable (Element, Right) throws -> Output
    ) -> DataStream<Output> where Element: Codable {
        let left = DataStream<Element>(environment: environment, nodeID: inputID)
        if lower > upper {
            environment.recordProblem(
                PipelineError(
                    code: .invalidArgument,
                    message: "intervalJoin(between: \(lower), and: \(upper)) of '\(left.name)': the lower bound must not be above the upper one"))
        }
        let (leftKey, rightKey) = (key, other.key)
        let inputs = left.joinInputs(DataStream<Right>(environment: other.environment, nodeID: other.inputID), operation: "intervalJoin")
        typealias Context = KeyedProcessContext<Key, IntervalJoinBuffers<Element, Right>, Output>
        // Every `try` comes before any change (the state is changed in place). A record is kept
        // until the watermark reaches the last time a partner could have: after that every
        // partner on time is out of its interval.
        let handle: @Sendable (inout Context, JoinInput<Element, Right>) throws -> Void = { context, input in
            let keepUntil: Duration
            switch input {
            case .left(let record):
                let time = leftTime(record)
                for right in context.state.rights where right.time >= time + lower && right.time <= time + upper {
                    context.emit(try join(record, right.value))
                }
                keepUntil = time + upper
                guard context.currentWatermark.map({ keepUntil > $0 }) ?? true else { return }
                context.state.lefts.append(.init(time: time, value: record))
            case .right(let record):
                let time = rightTime(record)
                for left in context.state.lefts where time >= left.time + lower && time <= left.time + upper {
                    context.emit(try join(left.value, record))
                }
                keepUntil = time - lower
                guard context.currentWatermark.map({ keepUntil > $0 }) ?? true else { return }
                context.state.rights.append(.init(time: time, value: record))
            }
            if let armed = context.state.cleanupAt {
                guard keepUntil < armed else { return }
                context.timers.delete(at: armed)
            }
            context.state.cleanupAt = keepUntil
            context.timers.register(at: keepUntil)
        }
        let cleanUp: @Sendable (inout Context, FiredTimer) throws -> Void = { context, timer in
            // Everything the watermark has passed goes at once: one firing per key and watermark.
            let bound = max(timer.time, context.currentWatermark ?? timer.time)
            context.state.lefts.removeAll { $0.time + upper <= bound }
            context.state.rights.removeAll { $0.time - lower <= bound }
            var next: Duration?
            for left in context.state.lefts where next.map({ left.time + upper < $0 }) ?? true { next = left.time + upper }
            for right in context.state.rights where next.map({ right.time - lower < $0 }) ?? true { next = right.time - lower }
            if let next {
                context.state.cleanupAt = next
                context.timers.register(at: next)
            } else {
                context.clearState()
            }
        }
        return inputs.keyBy { input in
            switch input {
            case .left(let left): try leftKey(left)
            case .right(let right): try rightKey(right)
            }
        }.keyedProcess(label: "intervalJoin", initial: IntervalJoinBuffers<Element, Right>(), handle, onTimer: cleanUp, inPlace: true)
    }
}
