/// How a stream's watermark follows the event times of its records (see
/// ``DataStream/withTimestamps(_:watermarks:)``).
///
/// The watermark says "no record older than this is expected any more": event-time timers
/// (and windows) at or before it fire. It is the largest event time seen so far minus the
/// allowed out-of-orderness and one nanosecond (so a record exactly that far behind is not
/// late), never goes back, and is the minimum over an operator's inputs.
/// At the end of the input it jumps to +∞, which fires everything still pending.
public struct WatermarkStrategy: Sendable, Hashable, CustomStringConvertible {
    /// How far behind the largest event time seen the watermark stays.
    public let outOfOrderness: Duration
    /// After this long (job clock) without a record, the input is *idle*: it stops holding back
    /// the watermark of the operators it feeds until it delivers records again. `nil`: never.
    public let idleTimeout: Duration?

    /// Records may arrive up to `delay` later (in event time) than the latest one seen.
    /// A negative `delay` or `idleTimeout` makes `submit()` throw a ``PipelineError``.
    public static func boundedOutOfOrderness(_ delay: Duration, idleTimeout: Duration? = nil) -> WatermarkStrategy {
        WatermarkStrategy(outOfOrderness: delay, idleTimeout: idleTimeout)
    }

    /// Event times never decrease: the watermark is the latest event time seen.
    public static func monotonous(idleTimeout: Duration? = nil) -> WatermarkStrategy {
        WatermarkStrategy(outOfOrderness: .zero, idleTimeout: idleTimeout)
    }

    public var description: String {
        let idle = idleTimeout.map { ", idleTimeout: \($0)" } ?? ""
        return outOfOrderness == .zero ? "monotonous(\(idle.dropFirst(2)))" : "boundedOutOfOrderness(\(outOfOrderness)\(idle))"
    }

    /// What is out of range, in words.
    @usableFromInline
    var problem: String? {
        if outOfOrderness < .zero { return "the out-of-orderness delay \(outOfOrderness) must not be negative" }
        if let idleTimeout, idleTimeout <= .zero { return "idleTimeout \(idleTimeout) must be positive" }
        return nil
    }
}
