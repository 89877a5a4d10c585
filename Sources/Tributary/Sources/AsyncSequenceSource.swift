import Synchronization

/// Reads the elements of an `AsyncSequence`, such as a stream of events from elsewhere in the
/// program.
///
/// A pump iterates the sequence into a bounded buffer (so a fast sequence is slowed down by a
/// slow pipeline); each batch holds the first element to arrive plus whatever else has arrived
/// by then, so an element is never held back waiting for the next one.
///
/// The sequence is iterated **once for the life of the job**: the pump runs beside the job,
/// not beside one attempt, so an in-process recovery goes on with the elements not yet handed
/// over instead of iterating the sequence again (an `AsyncStream` can only be iterated once; a
/// re-iterable sequence would replay from its first element). One job consumes a source; do
/// not submit the same `AsyncSequenceSource` value in two jobs.
///
/// - Important: an async sequence cannot be rewound, so this source is not replayable: with
///   `strategy: "checkpoint"`, elements it handed to the pipeline after the last completed
///   checkpoint are lost when the job recovers (at-most-once for this source). The job logs a
///   warning at start, and a `WARNING` event after each recovery says how many were lost. The
///   pump reads ahead: when the job ends (completed, stopped or cancelled) the elements it took
///   from the sequence but had not handed over, up to `bufferCapacity`, are dropped with it.
public struct AsyncSequenceSource<Base: AsyncSequence & Sendable>: Source where Base.Element: Sendable {
    public typealias Element = Base.Element
    public let base: Base
    /// Elements buffered between the pump and the pipeline.
    public let bufferCapacity: Int
    let pump: AsyncSequencePump<Base>

    /// - Parameters:
    ///   - base: the sequence, iterated once for the job's life.
    ///   - bufferCapacity: at least 1; a smaller value fails the job when it starts reading,
    ///     with an ``AsyncSequenceSourceError`` naming it (the sequence is not touched).
    public init(_ base: Base, bufferCapacity: Int = 1024) {
        self.base = base
        self.bufferCapacity = bufferCapacity
        self.pump = AsyncSequencePump(base: base, capacity: max(1, bufferCapacity))
    }

    public var isReplayable: Bool { false }

    /// Ignores `position`: the sequence goes on wherever it is.
    /// - Throws: ``AsyncSequenceSourceError`` for a `bufferCapacity` below 1.
    public func makeReader(startingAt position: Int?) throws -> Reader {
        guard bufferCapacity >= 1 else {
            throw AsyncSequenceSourceError(field: "bufferCapacity", value: String(bufferCapacity), allowed: "at least 1")
        }
        return Reader(pump: pump)
    }

    public struct Reader: SourceReader {
        let pump: AsyncSequencePump<Base>

        /// Elements handed over in the job's life, across recoveries and resumed processes:
        /// checkpoints record it, so a recovery can tell how many it lost.
        public var position: Int { pump.position }

        public mutating func read(into records: inout [Element], limit: ReadLimit) async throws -> Bool {
            _ = try await pump.take(into: &records, limit: limit.maxCount)
            return !pump.isExhausted
        }
    }
}

/// An ``AsyncSequenceSource`` was made with a value it cannot work with. Unrecoverable: no
/// restart or restore can change it, so the job fails at once.
public struct AsyncSequenceSourceError: UnrecoverableError, Sendable, CustomStringConvertible {
    /// The parameter: `bufferCapacity`.
    public let field: String
    public let value: String
    public let allowed: String

    public var description: String {
        "AsyncSequenceSource: \(field) is \(value), but it must be \(allowed)"
    }
}

extension AsyncSequenceSource: JobScopedSource {
    func runForJob() async {
        // A source that cannot start leaves its sequence alone (its reader fails the job).
        guard bufferCapacity >= 1 else { return }
        await pump.run()
    }
    func wake() { pump.wake() }
    func recordsLost(restoringTo position: Int?) -> Int { pump.handedSinceStart(restoringTo: position ?? 0) }
}

/// The job-long iteration of an async sequence into a bounded buffer shared by every attempt's
/// reader. Its one data lane carries elements and the end; its control lane carries wake-ups (a
/// stop request, a checkpoint to take part in).
final class AsyncSequencePump<Base: AsyncSequence & Sendable>: Sendable where Base.Element: Sendable {
    private let base: Base
    private let buffer: Inbox<Base.Element>
    private struct State {
        var started = false
        var exhausted = false
        /// Elements handed to readers in this process, and the position the first reader of
        /// this process started from.
        var handed = 0
        var baseline: Int?
    }

    private let state = Mutex(State())

    init(base: Base, capacity: Int) {
        self.base = base
        self.buffer = Inbox(lanes: 1, capacity: capacity)
    }

    var isExhausted: Bool { state.withLock { $0.exhausted } }

    /// Elements handed over in the job's life: the position this process resumed from, plus
    /// what it handed over since.
    var position: Int { state.withLock { ($0.baseline ?? 0) + $0.handed } }

    /// Iterates the sequence until it ends or the job ends (cancellation). Runs once.
    func run() async {
        let first = state.withLock { state -> Bool in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        await withTaskCancellationHandler {
            do {
                for try await element in base {
                    try await buffer.send(.batch([element]), lane: 0)
                }
                try await buffer.send(.endOfStream, lane: 0)
            } catch {
                buffer.close(with: error)
            }
        } onCancel: {
            // The job has ended: wake a pump suspended on a full buffer. A later job that reads
            // this source learns why it gets nothing.
            buffer.close(with: AsyncSequenceSourceConsumedError())
        }
    }

    /// Takes what has arrived (waiting for the first element), at most `limit`. A cancelled
    /// wait (the attempt ends) leaves the buffer and the pump as they are for the next one.
    func take(into records: inout [Base.Element], limit: Int) async throws -> Int {
        if isExhausted { return 0 }
        var next: (lane: Int, message: Message<Base.Element>)? = try await buffer.receiveUnlessCancelled()
        var produced = 0
        while let (_, message) = next {
            switch message {
            case .batch(let elements), .keyedBatch(let elements, _):
                records.append(contentsOf: elements)
                produced += elements.count
            case .endOfStream:
                state.withLock { $0.exhausted = true }
            case .watermark, .idle:
                break
            case .barrier:
                // A wake-up: return what there is so the source loop sees the stop request or
                // the checkpoint to inject a barrier for.
                next = nil
                continue
            }
            if isExhausted || produced >= limit { break }
            next = try buffer.tryReceive()
        }
        state.withLock { $0.handed += produced }
        return produced
    }

    func wake() {
        buffer.wake()
    }

    /// Elements handed over since the checkpoint at `position` (lost to a recovery from it).
    func handedSinceStart(restoringTo position: Int) -> Int {
        state.withLock { state in
            guard let baseline = state.baseline else {
                state.baseline = position
                return 0
            }
            return max(0, baseline + state.handed - position)
        }
    }
}

/// A source whose work outlives one attempt of the job (internal: only built-in sources).
protocol JobScopedSource: Sendable {
    /// Runs for the life of the job, beside every attempt; cancelled when the job ends.
    func runForJob() async
    /// Wakes a reader waiting for input (a stop was requested).
    func wake()
    /// How many records handed over are lost when the job restores `position`.
    func recordsLost(restoringTo position: Int?) -> Int
}

/// An ``AsyncSequenceSource`` was read by a job that ended: its sequence was consumed then, and
/// a source cannot iterate it again. Make a new `AsyncSequenceSource` for each job.
public struct AsyncSequenceSourceConsumedError: Error, Sendable, CustomStringConvertible {
    public var description: String {
        "this AsyncSequenceSource's sequence was consumed by an earlier job; make a new AsyncSequenceSource for each job"
    }
}
