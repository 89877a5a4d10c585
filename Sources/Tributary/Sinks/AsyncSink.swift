/// A ``Sink`` whose writer must `await`: a database client, an HTTP endpoint, a message
/// broker's producer — anything with an async API.
///
/// The contract is ``Sink``'s, with `async` calls; with checkpoints, output follows the same
/// two-phase commit, so each record's effect becomes visible exactly once also when the job
/// recovers or a killed process is resumed:
///
/// ```
///  writer:  write write | preCommit(n) | write write | preCommit(n+1) ...
///  sink:                  checkpoint n completes ──▶ commit(upTo: n)
///  sink, on recovery from checkpoint c: recover(lastCompleted: c)
/// ```
///
/// How the runtime calls it, and what that asks of an implementation:
/// - An instance's writer calls run one at a time, in order, on the instance's executor (a
///   writer whose methods are `@concurrent` runs them elsewhere, still one at a time): a
///   `write` that suspends holds back that instance's input (backpressure reaches the sources
///   through the bounded channels), and the barrier of a checkpoint waits for it.
/// - A `write` that throws is an operator failure under the sink's supervision. When it
///   restarts the sink, the writer is closed, a new one made for the same instance, and the
///   same batch written again. So a failed `write` must leave nothing of its batch staged, and
///   a new writer of an instance goes on with what its predecessor staged since its last
///   `preCommit` (those records belong to the epoch still open). A `makeWriter` that throws
///   during a restart is a failed restart, under the same supervision.
/// - `preCommit(epoch:)` throwing fails that checkpoint's barrier: the job recovers from the
///   last completed checkpoint, calling `recover(lastCompleted:)` first.
/// - `commit(upTo:)` runs after the checkpoint's files are on disk, off the data path. If it
///   throws, the checkpoint counts as failed and its epochs are published by a later commit
///   (given a higher epoch: committing must publish every sealed epoch up to it, and be
///   idempotent) or, after a crash, by the new process's `recover`.
/// - `recover(lastCompleted:)` runs before each run of the job's instances: at the start and
///   before every checkpoint restore.
/// - ``LocalEnvironment/stop()`` lets calls in progress finish (the job drains and takes a
///   final checkpoint). ``LocalEnvironment/cancel()`` cancels the tasks of the instances and
///   of the checkpoint writer: a call that honours cancellation ends its wait with
///   `CancellationError`, which is not a failure of the sink; nothing it staged is published
///   before a checkpoint covers it, and a commit cut short this way is made good by `recover`
///   when the job resumes. A call that ignores cancellation holds the cancel until it returns:
///   `operator_timeout` does not apply to sink calls, because abandoning a `write` whose
///   staging may still land would duplicate its records.
/// - After a failure, a restore or a cancel, an instance's writer is dropped without `close`
///   (which means the input ended): release connections in `deinit` of a class it holds.
///
/// When the job takes no checkpoints (``SinkContext/deliversCommits`` is `false`) the runtime
/// never calls `preCommit`, `commit` or `recover`: each `write` is final, and `close` flushes.
public protocol AsyncSink<Element>: Sendable {
    associatedtype Element: Sendable
    associatedtype Writer: AsyncSinkWriter where Writer.Element == Element

    /// Creates the writer of one sink instance, before its first record; called again on every
    /// restart of the instance. A throw when the instance starts escalates like any failure the
    /// sink's supervisor gives up on: the job restores its last checkpoint (and fails when
    /// `max_recovery_attempts` run out, naming the sink and the error).
    nonisolated(nonsending) func makeWriter(_ context: SinkContext) async throws -> Writer

    /// Publishes everything every instance sealed for epochs up to `epoch` (checkpoint `epoch`
    /// is complete). Must be idempotent.
    func commit(upTo epoch: Int64, context: SinkContext) async throws

    /// Prepares for a run that restores checkpoint `lastCompleted` (`nil`: a fresh start):
    /// publishes what was sealed for epochs up to it if that was not done yet, and discards
    /// everything written or sealed after it. Called once per sink before each run of its
    /// instances (the job's start and every checkpoint restore).
    func recover(lastCompleted epoch: Int64?, context: SinkContext) async throws
}

extension AsyncSink {
    public func commit(upTo epoch: Int64, context: SinkContext) async throws {}
    public func recover(lastCompleted epoch: Int64?, context: SinkContext) async throws {}
}

/// Writes one ``AsyncSink`` instance's records. Its calls run on the instance's executor, one
/// at a time, so a writer needs no lock of its own.
public protocol AsyncSinkWriter<Element> {
    associatedtype Element: Sendable

    /// Writes (or, when commits are delivered, stages) a batch of records. A throw must leave
    /// nothing of the batch staged: the batch is written again by the next writer.
    nonisolated(nonsending) mutating func write(_ records: [Element]) async throws

    /// Seals everything written since the previous `preCommit` as `epoch`, durably enough that
    /// ``AsyncSink/commit(upTo:context:)`` (possibly in a new process) can publish it.
    nonisolated(nonsending) mutating func preCommit(epoch: Int64) async throws

    /// The input has ended (after a final `preCommit` when commits are delivered), or the sink
    /// restarts: flush and release resources.
    nonisolated(nonsending) mutating func close() async throws
}

extension AsyncSinkWriter {
    public nonisolated(nonsending) mutating func preCommit(epoch: Int64) async throws {}
    public nonisolated(nonsending) mutating func close() async throws {}
}
