import Synchronization

/// Collects records in memory, thread-safely, for tests and small jobs.
///
/// ``values`` holds only committed records: with checkpoints, what a completed checkpoint
/// committed; without, everything written. Records from several sink instances are appended in
/// the order their batches arrive.
public final class CollectSink<Element: Sendable>: Sink, Sendable {
    private struct Storage {
        var committed: [Element] = []
        /// Records staged per writer instance, and sealed epochs waiting for their commit.
        var staged: [Int: [Element]] = [:]
        var sealed: [Int: [(epoch: Int64, records: [Element])]] = [:]
        var committedEpochs: [Int: Int64] = [:]
    }

    private let storage = Mutex(Storage())

    public init() {}

    /// The committed records.
    public var values: [Element] { storage.withLock { $0.committed } }

    public func makeWriter(_ context: SinkContext) throws -> Writer {
        Writer(sink: self, instance: context.instance, transactional: context.deliversCommits)
    }

    public struct Writer: SinkWriter {
        let sink: CollectSink
        let instance: Int
        let transactional: Bool

        public mutating func write(_ records: [Element]) throws {
            let instance = self.instance
            if transactional {
                sink.storage.withLock { $0.staged[instance, default: []].append(contentsOf: records) }
            } else {
                sink.storage.withLock { $0.committed.append(contentsOf: records) }
            }
        }

        public mutating func preCommit(epoch: Int64) throws {
            let instance = self.instance
            sink.storage.withLock { storage in
                let records = storage.staged.removeValue(forKey: instance) ?? []
                storage.sealed[instance, default: []].append((epoch, records))
            }
        }

        public mutating func commit(epoch: Int64) throws {
            let instance = self.instance
            sink.storage.withLock { storage in
                guard (storage.committedEpochs[instance] ?? .min) < epoch else { return }
                let ready = storage.sealed[instance, default: []].filter { $0.epoch <= epoch }
                storage.sealed[instance, default: []].removeAll { $0.epoch <= epoch }
                for part in ready { storage.committed.append(contentsOf: part.records) }
                storage.committedEpochs[instance] = epoch
            }
        }

        public mutating func abort(afterCommitted epoch: Int64?) throws {
            let instance = self.instance
            sink.storage.withLock { storage in
                storage.staged[instance] = nil
                storage.sealed[instance, default: []].removeAll { $0.epoch > (epoch ?? .min) }
            }
        }
    }
}
