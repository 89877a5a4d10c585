import Tributary

/// An ``AsyncSink`` over a ``FileSink`` whose every call suspends first (a hop through an
/// actor and a yield), as a writer to a remote store does. Torture runs put the runtime's async
/// sink path through the same faults and kills as the file sink's; the file is the durable
/// store a resumed process reads. Each call honours cancellation after its suspension, as a
/// network client does, so a torture run's `cancel()` ends waits with `CancellationError`.
/// Its first `failingCommits` commits throw (over the object's life, so across the runs of a
/// resumed job in one process).
public struct SuspendingFileSink: AsyncSink {
    public let file: FileSink<TortureRecord>
    private let failures: FailureInjector<Int>
    private let hop = Hop()

    public init(path: String, failingCommits: Int) {
        file = FileSink(path: path)
        failures = FailureInjector(failOn: [0], times: failingCommits)
    }

    public func makeWriter(_ context: SinkContext) async throws -> Writer {
        await hop.pass()
        return Writer(inner: try file.makeWriter(context), hop: hop)
    }

    public func commit(upTo epoch: Int64, context: SinkContext) async throws {
        await hop.pass()
        try Task.checkCancellation()
        try failures.check(0)
        try file.commit(upTo: epoch, context: context)
    }

    public func recover(lastCompleted epoch: Int64?, context: SinkContext) async throws {
        await hop.pass()
        try file.recover(lastCompleted: epoch, context: context)
    }

    public struct Writer: AsyncSinkWriter {
        var inner: FileSink<TortureRecord>.Writer
        let hop: Hop

        public mutating func write(_ records: [TortureRecord]) async throws {
            await hop.pass()
            try Task.checkCancellation()
            try inner.write(records)
        }

        public mutating func preCommit(epoch: Int64) async throws {
            await hop.pass()
            try Task.checkCancellation()
            try inner.preCommit(epoch: epoch)
        }

        public mutating func close() async throws {
            await hop.pass()
            try inner.close()
        }
    }

    /// Where each call suspends: off the instance's executor and back.
    actor Hop {
        func pass() async { await Task.yield() }
    }
}
