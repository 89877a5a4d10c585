/// Where a pipeline's records end up.
///
/// A sink hands out one writer per sink instance. Writers follow a two-phase commit, so a sink
/// can make each record's effect visible exactly once even when the job recovers from a
/// checkpoint:
///
/// ```
///  write write | preCommit(n) | write write | preCommit(n+1) ...
///              |  checkpoint n completes ──▶ commit(n)
///  recovery: abort(afterCommitted: n) drops everything staged after epoch n
/// ```
///
/// When the job does not take checkpoints (``SinkContext/deliversCommits`` is `false`) the
/// runtime never calls `preCommit` or `commit`: a writer then makes each `write` visible itself
/// and flushes in `close`.
public protocol Sink<Element>: Sendable {
    associatedtype Element: Sendable
    associatedtype Writer: SinkWriter where Writer.Element == Element

    /// Creates the writer of one sink instance; called when the instance starts and again on
    /// every restart of it.
    func makeWriter(_ context: SinkContext) throws -> Writer
}

/// Writes one sink instance's records. All calls come from that instance's run loop, one at a time.
public protocol SinkWriter<Element> {
    associatedtype Element: Sendable

    /// Writes (or, when commits are delivered, stages) a batch of records.
    mutating func write(_ records: [Element]) throws

    /// Seals everything written since the previous `preCommit` as `epoch`, durably enough that a
    /// later `commit(epoch:)` (possibly by a new process) can publish it.
    mutating func preCommit(epoch: Int64) throws

    /// Publishes the sealed `epoch`. Must be idempotent: recovery may commit an epoch again.
    mutating func commit(epoch: Int64) throws

    /// Drops everything written or sealed after `epoch` (all of it when `nil`); called on recovery.
    mutating func abort(afterCommitted epoch: Int64?) throws

    /// The input has ended; flush and release resources.
    mutating func close() throws
}

extension SinkWriter {
    public mutating func preCommit(epoch: Int64) throws {}
    public mutating func commit(epoch: Int64) throws {}
    public mutating func abort(afterCommitted epoch: Int64?) throws {}
    public mutating func close() throws {}
}

/// What a sink instance is told when its writer is made.
public struct SinkContext: Sendable {
    /// The job's id.
    public let jobID: String
    /// The sink operator's name.
    public let operatorName: String
    /// Which instance this is, `0..<parallelism`.
    public let instance: Int
    public let parallelism: Int
    /// Whether the runtime calls ``SinkWriter/preCommit(epoch:)`` and ``SinkWriter/commit(epoch:)``
    /// (only with `strategy: "checkpoint"`); when `false`, each write is final.
    public let deliversCommits: Bool

    public init(jobID: String, operatorName: String, instance: Int, parallelism: Int, deliversCommits: Bool) {
        self.jobID = jobID
        self.operatorName = operatorName
        self.instance = instance
        self.parallelism = parallelism
        self.deliversCommits = deliversCommits
    }
}
