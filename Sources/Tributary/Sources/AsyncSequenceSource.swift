/// Reads the elements of an `AsyncSequence`, such as a stream of events from elsewhere in the
/// program.
///
/// - Important: an async sequence cannot be rewound, so this source is not replayable: with
///   `strategy: "checkpoint"`, records it delivered after the last completed checkpoint are not
///   read again after a recovery (at-most-once for this source; the job logs a warning).
///
/// A batch is sent when it is full, when the sequence ends, or when an element arrives after the
/// batch linger has passed since the batch's first element.
public struct AsyncSequenceSource<Base: AsyncSequence & Sendable>: Source where Base.Element: Sendable {
    public typealias Element = Base.Element
    public let base: Base

    public init(_ base: Base) {
        self.base = base
    }

    public var isReplayable: Bool { false }

    /// Ignores `position`: the sequence starts wherever it is.
    public func makeReader(startingAt position: Int?) throws -> Reader {
        Reader(iterator: base.makeAsyncIterator())
    }

    public struct Reader: SourceReader {
        var iterator: Base.AsyncIterator
        /// How many elements were read: the position, for reporting only.
        public private(set) var position = 0

        public mutating func read(into buffer: inout [Element], limit: ReadLimit) async throws -> Bool {
            var produced = 0
            while produced < limit.maxCount {
                guard let element = try await iterator.next() else { return false }
                buffer.append(element)
                produced += 1
                position += 1
                if ContinuousClock.now >= limit.deadline { break }
            }
            return true
        }
    }
}
