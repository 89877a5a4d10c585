/// Where a pipeline's records end up.
///
/// A sink hands out one writer per sink instance. With checkpoints, output follows a two-phase
/// commit, so each record's effect becomes visible exactly once even when the job recovers
/// from a checkpoint or a killed process is resumed:
///
/// ```
///  writer:  write write | preCommit(n) | write write | preCommit(n+1) ...
///  sink:                  checkpoint n completes ──▶ commit(upTo: n)
///  sink, on recovery from checkpoint c: recover(lastCompleted: c) — publish what was sealed for
///  epochs ≤ c if not yet published, drop everything written after
/// ```
///
/// When the job does not take checkpoints (``SinkContext/deliversCommits`` is `false`) the
/// runtime never calls `preCommit`, `commit` or `recover`: a writer then makes each `write`
/// visible itself and flushes in `close`.
public protocol Sink<Element>: Sendable {
    associatedtype Element: Sendable
    associatedtype Writer: SinkWriter where Writer.Element == Element

    /// Creates the writer of one sink instance; called when the instance starts and again on
    /// every restart of it.
    func makeWriter(_ context: SinkContext) throws -> Writer

    /// Publishes everything every instance sealed for epochs up to `epoch` (checkpoint `epoch`
    /// is complete). Must be idempotent: it may be called again for the same epoch, also by a
    /// new process after a crash.
    func commit(upTo epoch: Int64, context: SinkContext) throws

    /// Prepares for a run that restores checkpoint `lastCompleted` (`nil`: a fresh start):
    /// publishes what was sealed for epochs up to it if that was not done yet, and discards
    /// everything written or sealed after it. Called once per sink before each run of its
    /// instances (the job's start and every checkpoint restore).
    func recover(lastCompleted epoch: Int64?, context: SinkContext) throws
}

extension Sink {
    public func commit(upTo epoch: Int64, context: SinkContext) throws {}
    public func recover(lastCompleted epoch: Int64?, context: SinkContext) throws {}
}

/// Writes one sink instance's records. All calls come from that instance's run loop, one at a time.
public protocol SinkWriter<Element> {
    associatedtype Element: Sendable

    /// Writes (or, when commits are delivered, stages) a batch of records.
    mutating func write(_ records: [Element]) throws

    /// Seals everything written since the previous `preCommit` as `epoch`, durably enough that
    /// ``Sink/commit(upTo:context:)`` (possibly in a new process) can publish it.
    mutating func preCommit(epoch: Int64) throws

    /// The input has ended (after a final `preCommit` when commits are delivered); flush and
    /// release resources.
    mutating func close() throws
}

extension SinkWriter {
    public mutating func preCommit(epoch: Int64) throws {}
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
    /// Whether the runtime calls ``SinkWriter/preCommit(epoch:)`` and ``Sink/commit(upTo:context:)``
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
