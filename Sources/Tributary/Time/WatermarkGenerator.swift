/// The watermark of one instance of ``DataStream/withTimestamps(_:watermarks:)``: follows the
/// largest event time its records carried, and notices when its input has gone idle.
///
/// Owned by one step and used only from its instance's loop.
@usableFromInline
final class WatermarkGenerator {
    let strategy: WatermarkStrategy
    private let processingTime: @Sendable () -> Duration
    /// The largest event time seen (restored from checkpoints, so a resumed job's watermark
    /// goes on from where it was).
    @usableFromInline var latest: Duration?
    /// The watermark forwarded last.
    private var forwarded: Duration?
    /// When (processing time) records last arrived.
    private var lastRecords: Duration?
    private(set) var isIdle = false

    @usableFromInline
    init(strategy: WatermarkStrategy, processingTime: @escaping @Sendable () -> Duration) {
        self.strategy = strategy
        self.processingTime = processingTime
        // An input that never delivers anything is idle one timeout after the start.
        if strategy.idleTimeout != nil { lastRecords = processingTime() }
    }

    /// A batch arrived whose largest event time is `latest` (`nil`: the batch was empty).
    @usableFromInline
    func observe(_ batchLatest: Duration?) {
        guard let batchLatest else { return }
        if latest.map({ batchLatest > $0 }) ?? true { latest = batchLatest }
        if strategy.idleTimeout != nil { lastRecords = processingTime() }
        isIdle = false
    }

    /// The watermark to forward, if it advanced since the last one forwarded (or the input
    /// was idle: a watermark is what makes it active again downstream).
    func take() -> Duration? {
        guard let latest else { return nil }
        // One nanosecond less (Flink: one millisecond): a record exactly `outOfOrderness`
        // behind the latest is not late, and a timer at its time has not fired.
        let watermark = latest - strategy.outOfOrderness - .nanoseconds(1)
        guard forwarded.map({ watermark > $0 }) ?? true else { return nil }
        forwarded = watermark
        return watermark
    }

    /// When (processing time) the input becomes idle unless records arrive first; `nil`
    /// without an idle timeout or once idle.
    var idleDeadline: Duration? {
        guard let timeout = strategy.idleTimeout, !isIdle, let lastRecords else { return nil }
        return lastRecords + timeout
    }

    /// Whether the input has just become idle: no records for `idleTimeout` of processing time.
    func becameIdle() -> Bool {
        guard let timeout = strategy.idleTimeout, !isIdle else { return false }
        guard let lastRecords, processingTime() - lastRecords >= timeout else { return false }
        isIdle = true
        // Downstream learns it is active again from the next watermark, so send it even if
        // it did not advance.
        forwarded = nil
        return true
    }

    /// The checkpointed part: the largest event time seen.
    @usableFromInline
    func snapshot() throws -> SnapshotPart? {
        .bytes(try StateCoder.encode(latest))
    }

    /// Takes the smallest of the instances' latest event times: a watermark never runs ahead
    /// of any record that instance might still see again.
    @usableFromInline
    func restore(_ parts: [Int: [UInt8]]) throws {
        var restored: Duration?
        for bytes in parts.values {
            guard let value = try StateCoder.decode(Duration?.self, from: bytes) else { continue }
            restored = restored.map { min($0, value) } ?? value
        }
        latest = restored
        forwarded = nil
    }
}
