/// Two streams joined within windows (``JoinedStreams/window(_:leftTime:rightTime:)``): end it
/// with ``apply(_:)`` (one output per matching pair) or ``coGroup(_:)`` (all of a window's
/// records of both sides at once).
///
/// Each window of each key is joined once, when it fires: once the watermark (the smaller of
/// the two inputs') passes its end, and at the latest when both inputs end. Windows are part
/// of checkpoints; after a restore each window is joined once, as in a run without failures.
/// Records later than the window plus ``allowedLateness(_:)`` are left out and counted in
/// ``JobResult/OperatorMetrics/lateRecordsDropped``; within it, the window is joined again
/// with the late record in it, emitting all its pairs again.
public struct WindowedJoin<Key: Hashable & Codable & Sendable, Left: Sendable, Right: Sendable>: Sendable {
    @usableFromInline var windowed: WindowedStream<Key, JoinInput<Left, Right>>

    @usableFromInline
    init(windowed: WindowedStream<Key, JoinInput<Left, Right>>) {
        self.windowed = windowed
    }

    /// Keeps each window open for `lateness` after it fired (see ``WindowedStream/allowedLateness(_:)``).
    @inlinable
    public func allowedLateness(_ lateness: Duration) -> WindowedJoin {
        WindowedJoin(windowed: windowed.allowedLateness(lateness))
    }

    /// An inner join per window: `join` is called for every pair of a left and a right record
    /// with the same key in the same window, left records in arrival order, and for each of
    /// them the right records in arrival order (a session window merged from several lists
    /// theirs one after another). If it throws, the window is left as it was for the
    /// operator's supervisor: a restart joins it again; skipping drops the whole window.
    @inlinable
    public func apply<Output: Sendable>(_ join: @escaping @Sendable (Left, Right) throws -> Output) -> DataStream<Output>
    where Left: Codable, Right: Codable {
        build(label: "windowJoin") { _, _, lefts, rights in
            var outputs: [Output] = []
            for left in lefts {
                for right in rights { outputs.append(try join(left, right)) }
            }
            return outputs
        }
    }

    /// Hands each window's records of both sides, in arrival order (a session window merged
    /// from several lists theirs one after another), to `body` when the window fires (one side
    /// may be empty: outer joins and "which had no partner" are written here). `body` returns
    /// any number of outputs; if it throws, the window is left as it was for the operator's
    /// supervisor: a restart joins it again; skipping drops the window.
    @inlinable
    public func coGroup<Output: Sendable>(
        _ body: @escaping @Sendable (_ key: Key, _ window: TimeWindow, _ lefts: [Left], _ rights: [Right]) throws -> [Output]
    ) -> DataStream<Output> where Left: Codable, Right: Codable {
        build(label: "coGroup", body)
    }

    @inlinable
    func build<Output: Sendable>(
        label: String, _ body: @escaping @Sendable (Key, TimeWindow, [Left], [Right]) throws -> [Output]
    ) -> DataStream<Output> where Left: Codable, Right: Codable {
        windowed.build(
            label: label, initial: JoinBuffers<Left, Right>(), add: { buffers, input in buffers.add(input) },
            merge: { buffers, other in buffers.merge(other) },
            result: { key, window, buffers in try body(key, window, buffers.lefts, buffers.rights) })
    }
}
