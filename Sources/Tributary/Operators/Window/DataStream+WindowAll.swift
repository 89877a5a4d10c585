/// The one key of ``DataStream/windowAll(_:eventTime:)``: every record has it.
public struct AllRecords: Hashable, Codable, Sendable {
    @inlinable
    public init() {}
}

extension DataStream {
    /// Cuts the whole stream, not keyed, into windows of time: one instance of the window
    /// operator sees every record (its other instances, if the environment's parallelism is
    /// above 1, stay idle), so use it for totals, not for heavy per-record work.
    ///
    /// ```swift
    /// clicks.windowAll(.tumbling(size: .seconds(60)), eventTime: { $0.time })
    ///     .aggregate(initial: 0, add: { count, _ in count += 1 }) { _, window, count in (window.start, count) }
    /// ```
    @inlinable
    public func windowAll(_ assigner: WindowAssigner, eventTime: (@Sendable (Element) -> Duration)? = nil) -> WindowedStream<AllRecords, Element> {
        keyBy { _ in AllRecords() }.window(assigner, eventTime: eventTime)
    }
}
