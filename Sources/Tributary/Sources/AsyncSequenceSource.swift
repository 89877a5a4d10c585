/// Reads the elements of an `AsyncSequence`, such as a stream of events from elsewhere in the
/// program.
///
/// A pump iterates the sequence into a bounded buffer (so a fast sequence is slowed down by a
/// slow pipeline); each batch holds the first element to arrive plus whatever else has arrived
/// by then, so an element is never held back waiting for the next one.
///
/// - Important: an async sequence cannot be rewound, so this source is not replayable: with
///   `strategy: "checkpoint"`, records it delivered after the last completed checkpoint are not
///   read again after a recovery (at-most-once for this source; the job logs a warning).
public struct AsyncSequenceSource<Base: AsyncSequence & Sendable>: Source where Base.Element: Sendable {
    public typealias Element = Base.Element
    public let base: Base
    /// Elements buffered between the pump and the pipeline.
    public let bufferCapacity: Int

    public init(_ base: Base, bufferCapacity: Int = 1024) {
        precondition(bufferCapacity > 0, "AsyncSequenceSource: bufferCapacity must be positive")
        self.base = base
        self.bufferCapacity = bufferCapacity
    }

    public var isReplayable: Bool { false }

    /// Ignores `position`: the sequence starts wherever it is.
    public func makeReader(startingAt position: Int?) throws -> Reader {
        Reader(base: base, buffer: Inbox(lanes: 1, capacity: bufferCapacity))
    }

    public struct Reader: SourceReader {
        let base: Base
        let buffer: Inbox<Element>
        var finished = false
        /// How many elements were read: the position, for reporting only.
        public private(set) var position = 0

        init(base: Base, buffer: Inbox<Element>) {
            self.base = base
            self.buffer = buffer
        }

        public var backgroundWork: (@Sendable () async -> Void)? {
            { [base, buffer] in
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
                    // Reading has ended: wake a pump suspended on a full buffer.
                    buffer.close(with: CancellationError())
                }
            }
        }

        public mutating func read(into records: inout [Element], limit: ReadLimit) async throws -> Bool {
            if finished { return false }
            let buffer = self.buffer
            let first = try await withTaskCancellationHandler {
                try await buffer.receive()
            } onCancel: {
                buffer.close(with: CancellationError())
            }
            var next: (lane: Int, message: Message<Element>)? = first
            var produced = 0
            while let (_, message) = next {
                switch message {
                case .batch(let elements):
                    records.append(contentsOf: elements)
                    produced += elements.count
                case .endOfStream:
                    finished = true
                case .barrier:
                    break
                }
                if finished || produced >= limit.maxCount { break }
                next = try buffer.tryReceive()
            }
            position += produced
            return !finished
        }
    }
}
