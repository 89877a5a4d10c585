import Synchronization

/// Collects records in memory, thread-safely, for tests and small jobs.
///
/// ``values`` holds only committed records: with checkpoints, what completed checkpoints
/// committed (in epoch order, then instance order); without, everything written, in the order
/// batches arrived.
public final class CollectSink<Element: Sendable>: Sink, Sendable {
    private struct Storage {
        var committed: [Element] = []
        /// Written since the last seal, per writer instance.
        var open: [Int: [Element]] = [:]
        /// Sealed epochs waiting for their commit: (epoch, instance, records).
        var sealed: [(epoch: Int64, instance: Int, records: [Element])] = []
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
            let ready = storage.sealed.filter { $0.epoch <= epoch }.sorted { ($0.epoch, $0.instance) < ($1.epoch, $1.instance) }
            storage.sealed.removeAll { $0.epoch <= epoch }
            for part in ready { storage.committed.append(contentsOf: part.records) }
            storage.lastCommitted = max(storage.lastCommitted ?? epoch, epoch)
        }
    }

    public func recover(lastCompleted epoch: Int64?, context: SinkContext) throws {
        if let epoch { try commit(upTo: epoch, context: context) }
        storage.withLock { storage in
            storage.open = [:]
            storage.sealed.removeAll { $0.epoch > (epoch ?? .min) }
        }
    }

    public struct Writer: SinkWriter {
        let sink: CollectSink
        let instance: Int
        let transactional: Bool

        public mutating func write(_ records: [Element]) throws {
            let instance = self.instance
            if transactional {
                sink.storage.withLock { $0.open[instance, default: []].append(contentsOf: records) }
            } else {
                sink.storage.withLock { $0.committed.append(contentsOf: records) }
            }
        }

        public mutating func preCommit(epoch: Int64) throws {
            let instance = self.instance
            sink.storage.withLock { storage in
                let records = storage.open.removeValue(forKey: instance) ?? []
                storage.sealed.append((epoch, instance, records))
            }
        }
    }
}
