import Tributary

/// Wraps a sink so its first `failures` commits throw (counted over the object's life, so
/// across the runs of a resumed job in one process): the checkpoint whose commit failed is
/// reported failed and a later commit publishes its epochs too.
public final class FlakyCommitSink<Inner: Sink>: Sink, Sendable {
    public let inner: Inner
    private let failures: FailureInjector<Int>

    public init(_ inner: Inner, failures: Int) {
        self.inner = inner
        self.failures = FailureInjector(failOn: [0], times: failures)
    }

    public func makeWriter(_ context: SinkContext) throws -> Inner.Writer { try inner.makeWriter(context) }

    public func commit(upTo epoch: Int64, context: SinkContext) throws {
        try failures.check(0)
        try inner.commit(upTo: epoch, context: context)
    }

    public func recover(lastCompleted epoch: Int64?, context: SinkContext) throws {
        try inner.recover(lastCompleted: epoch, context: context)
    }
}
