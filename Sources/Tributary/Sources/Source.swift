/// Where a pipeline's records come from.
///
/// A source hands out readers; a reader fills batches and knows its ``SourceReader/position``,
/// a `Codable` value that checkpoints record. A source is *replayable* when
/// ``makeReader(startingAt:)`` can start from such a position again, which is what recovery
/// from a checkpoint needs for exactly-once results.
///
/// The runtime reads one source with one instance; each call of `read` fills at most one batch.
public protocol Source<Element>: Sendable {
    associatedtype Element: Sendable
    associatedtype Position: Codable & Sendable
    associatedtype Reader: SourceReader where Reader.Element == Element, Reader.Position == Position

    /// Whether ``makeReader(startingAt:)`` honours a position, so records can be read again after
    /// a failure. A source that is not replayable makes recovery at-most-once for its records.
    var isReplayable: Bool { get }

    /// A reader positioned at the start (`nil`) or just after the record at `position`.
    /// - Throws: when the source cannot be opened (the job fails with that error, naming the source).
    func makeReader(startingAt position: Position?) throws -> Reader
}

extension Source {
    public var isReplayable: Bool { true }
}

/// How much one call of ``SourceReader/read(into:limit:)`` may return, and by when.
public struct ReadLimit: Sendable {
    /// The most records to append.
    public var maxCount: Int
    /// A reader that waits for records (a rate-limited or remote source) should return what it
    /// has by this instant, so a partial batch is not held back longer than the batch linger.
    public var deadline: ContinuousClock.Instant

    public init(maxCount: Int, deadline: ContinuousClock.Instant) {
        self.maxCount = maxCount
        self.deadline = deadline
    }
}

/// Reads one source's records, batch by batch.
public protocol SourceReader<Element> {
    associatedtype Element: Sendable
    associatedtype Position: Codable & Sendable

    /// The position after the last record returned so far; reading again from it yields exactly
    /// the records not yet returned.
    var position: Position { get }

    /// Appends up to `limit.maxCount` records to `buffer`.
    /// - Returns: `false` once the source is exhausted (records appended by this call still
    ///   count), `true` while more may follow.
    /// - Throws: a read error; the job treats it as a failure of the source operator.
    mutating func read(into buffer: inout [Element], limit: ReadLimit) async throws -> Bool

    /// Work that must run while the reader is read, such as a pump that iterates an async
    /// sequence into the reader's buffer. The runtime runs it as a child task beside the read
    /// loop and cancels it when reading ends. `nil` (the default) for readers that need none.
    var backgroundWork: (@Sendable () async -> Void)? { get }
}

extension SourceReader {
    public var backgroundWork: (@Sendable () async -> Void)? { nil }
}
