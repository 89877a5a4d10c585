extension DataStream {
    /// Joins this stream (the left side) with `other` (the right side) on equal keys. End it
    /// with ``JoinedStreams/apply(_:)`` for a join over all records so far, or with
    /// ``JoinedStreams/window(_:leftTime:rightTime:)`` for a join within windows of time.
    ///
    /// ```swift
    /// // Each auction with its seller, whichever of the two arrives first.
    /// persons.join(auctions, where: { $0.id }, equalTo: { $0.seller })
    ///     .apply { person, auction in "\(person.name) sells \(auction.id)" }
    /// ```
    ///
    /// The join is one keyed operator over the union of the two inputs: checkpoints align
    /// barriers of both, and its watermark is the smaller of the two inputs' watermarks. A
    /// stream of another environment makes `submit()` throw a ``PipelineError``.
    /// - Parameters:
    ///   - other: the right side.
    ///   - leftKey: the key of a record of this stream; a pure function of the record. If it
    ///     throws, the record fails in the join, as for ``keyBy(_:)``.
    ///   - rightKey: the key of a record of `other`; a pure function of the record.
    @inlinable
    public func join<Right: Sendable, Key: Hashable & Codable & Sendable>(
        _ other: DataStream<Right>, where leftKey: @escaping @Sendable (Element) throws -> Key,
        equalTo rightKey: @escaping @Sendable (Right) throws -> Key
    ) -> JoinedStreams<Key, Element, Right> {
        JoinedStreams(
            keyed: joinInputs(other, operation: "join").keyBy { input in
                switch input {
                case .left(let left): try leftKey(left)
                case .right(let right): try rightKey(right)
                }
            })
    }
}

/// Two streams to be joined on equal keys (``DataStream/join(_:where:equalTo:)``).
public struct JoinedStreams<Key: Hashable & Codable & Sendable, Left: Sendable, Right: Sendable>: Sendable {
    @usableFromInline let keyed: KeyedStream<Key, JoinInput<Left, Right>>

    @usableFromInline
    init(keyed: KeyedStream<Key, JoinInput<Left, Right>>) {
        self.keyed = keyed
    }

    /// An inner join over everything seen so far: each record meets every record of the other
    /// side with the same key that arrived before it, so every matching pair is emitted
    /// exactly once, when its second record arrives, whichever side that is.
    ///
    /// Every record is kept in keyed state (part of checkpoints) for the life of the job, so
    /// state grows with the input; join within windows (``window(_:leftTime:rightTime:)``) or
    /// intervals (``KeyedStream/intervalJoin(_:between:and:leftTime:rightTime:_:)``) to bound it.
    /// - Parameter join: the output for one pair. If it throws, the record that completed the
    ///   pair fails as a whole (none of its pairs are emitted and it is not kept), under the
    ///   operator's supervision policy.
    @inlinable
    public func apply<Output: Sendable>(_ join: @escaping @Sendable (Left, Right) throws -> Output) -> DataStream<Output>
    where Left: Codable, Right: Codable {
        keyed.keyedProcess(
            label: "join", initial: JoinBuffers<Left, Right>(),
            { context, input in
                // Every `try` comes before the change (the state is changed in place).
                switch input {
                case .left(let left):
                    for right in context.state.rights { context.emit(try join(left, right)) }
                case .right(let right):
                    for left in context.state.lefts { context.emit(try join(left, right)) }
                }
                context.state.add(input)
            }, onTimer: { _, _ in }, inPlace: true)
    }

    /// Joins records of the two sides that fall into the same window: tumbling, sliding or
    /// session windows of event time (or processing time), as for ``KeyedStream/window(_:eventTime:)``.
    ///
    /// - Parameters:
    ///   - assigner: the windows: `.tumbling`, `.sliding` or `.session`.
    ///   - leftTime: the event time of a record of the left side.
    ///   - rightTime: the event time of a record of the right side. Event-time windows need
    ///     both (without them, or with only one, `submit()` throws); processing-time windows
    ///     need neither.
    @inlinable
    public func window(
        _ assigner: WindowAssigner, leftTime: (@Sendable (Left) -> Duration)? = nil, rightTime: (@Sendable (Right) -> Duration)? = nil
    ) -> WindowedJoin<Key, Left, Right> {
        if (leftTime == nil) != (rightTime == nil) || (assigner.time == .eventTime && leftTime == nil) {
            keyed.environment.recordProblem(
                PipelineError(
                    code: .invalidArgument,
                    message: "join(...).window(\(assigner)): an event-time window join needs both leftTime: and rightTime:, the event time of each side's records"))
        }
        var eventTime: (@Sendable (JoinInput<Left, Right>) -> Duration)?
        if let leftTime, let rightTime {
            eventTime = { input in
                switch input {
                case .left(let left): leftTime(left)
                case .right(let right): rightTime(right)
                }
            }
        }
        return WindowedJoin(windowed: keyed.window(assigner, eventTime: eventTime))
    }
}
