import Synchronization

/// The running counts of one operator instance, published by its run loop after each batch
/// and read by the metrics sampler: one uncontended lock per batch, off the per-record path.
final class InstanceMeter: Sendable {
    struct Reading: Sendable {
        /// Records in and out per node of the instance's chain, by node id.
        var records: [Int: (recordsIn: Int, recordsOut: Int)] = [:]
        var batches = 0
        var busy: Duration = .zero
        var emitting: Duration = .zero
    }

    private let reading = Mutex(Reading())

    func update(_ body: (inout Reading) -> Void) {
        reading.withLock { body(&$0) }
    }

    var current: Reading { reading.withLock { $0 } }
}
