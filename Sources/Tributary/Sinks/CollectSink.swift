import Synchronization

/// Collects records in memory, thread-safely, for tests and small jobs.
///
/// ``values`` holds only committed records: with checkpoints, what completed checkpoints
/// committed (in epoch order, then instance order); without, everything written, in the order
/// batches arrived.
public final class CollectSink<Element: Sendable>: Sink, Sendable {
    private struct Storage {
        var committed: [Element] = []
        var staging = EpochStaging<Element>()
        var lastCommitted: Int64?
    }

    private let storage = Mutex(Storage())

    public init() {}

    /// The committed records.
    public var values: [Element] { storage.withLock { $0.committed } }

    public func makeWriter(_ context: SinkContext) throws -> Writer {
        Writer(sink: self, instance: context.instance, transactional: context.deliversCommits)
    }

    public func commit(upTo epoch: Int64, context: SinkContext) throws {
        storage.withLock { storage in
            for part in storage.staging.release(upTo: epoch) { storage.committed.append(contentsOf: part) }
            storage.lastCommitted = max(storage.lastCommitted ?? epoch, epoch)
        }
    }

    public func recover(lastCompleted epoch: Int64?, context: SinkContext) throws {
        storage.withLock { storage in
            for part in storage.staging.recover(lastCompleted: epoch) { storage.committed.append(contentsOf: part) }
            if let epoch { storage.lastCommitted = max(storage.lastCommitted ?? epoch, epoch) }
        }
    }

    public struct Writer: SinkWriter {
        let sink: CollectSink
        let instance: Int
        let transactional: Bool

        public mutating func write(_ records: [Element]) throws {
            let instance = self.instance
            if transactional {
                sink.storage.withLock { $0.staging.stage(records, instance: instance) }
            } else {
                sink.storage.withLock { $0.committed.append(contentsOf: records) }
            }
        }

        public mutating func preCommit(epoch: Int64) throws {
            let instance = self.instance
            sink.storage.withLock { $0.staging.seal(epoch: epoch, instance: instance) }
        }
    }
}
