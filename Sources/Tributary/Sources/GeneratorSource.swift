/// Generates `count` records by calling `make(i)` for i = 0, 1, …; its position is the next i.
///
/// With `ratePerSecond` the records are spaced out in time (a load generator); without it the
/// source produces as fast as the pipeline takes records. Replayable: `make` must be a pure
/// function of `i`.
///
/// A negative `count` or a `ratePerSecond` that is not a positive finite number fails the job
/// when it starts, with a ``GeneratorSourceError`` that names the value.
public struct GeneratorSource<Element: Sendable>: Source {
    public let count: Int
    public let ratePerSecond: Double?
    /// Makes the records of `range` into the slots from the pointer on. Built around `make`
    /// in the (inlined) initialiser, where the caller's closure is known, so the loop calls it
    /// directly and each record is written straight into its slot: calling a stored
    /// `(Int) -> Element` per record returns it through a temporary and pays a reference count.
    @usableFromInline let makeRange: @Sendable (Range<Int>, UnsafeMutablePointer<Element>) -> Void

    @inlinable
    public init(count: Int, ratePerSecond: Double? = nil, _ make: @escaping @Sendable (Int) -> Element) {
        self.count = count
        self.ratePerSecond = ratePerSecond
        self.makeRange = { range, slots in
            var slot = slots
            for index in range {
                slot.initialize(to: make(index))
                slot += 1
            }
        }
    }

    public func makeReader(startingAt position: Int?) throws -> Reader {
        guard count >= 0 else { throw GeneratorSourceError(field: "count", value: "\(count)", allowed: "0 or more") }
        if let ratePerSecond, !(ratePerSecond > 0 && ratePerSecond.isFinite) {
            throw GeneratorSourceError(field: "ratePerSecond", value: "\(ratePerSecond)", allowed: "a positive finite number of records per second, or nil")
        }
        let start = position ?? 0
        guard (0...count).contains(start) else {
            throw SourcePositionError(source: "GeneratorSource", position: "\(start)", allowed: "0...\(count)")
        }
        return Reader(source: self, position: start)
    }

    public struct Reader: SourceReader {
        @usableFromInline let source: GeneratorSource
        @usableFromInline var next: Int
        /// The index of the next element to read.
        public var position: Int { next }
        /// When the rate-limited reader started, and the index it started at.
        @usableFromInline var origin: (instant: ContinuousClock.Instant, index: Int)?

        @usableFromInline
        init(source: GeneratorSource, position: Int) {
            self.source = source
            self.next = position
        }

        @inlinable
        public mutating func read(into buffer: inout [Element], limit: ReadLimit) async throws -> Bool {
            var end = min(source.count, next + limit.maxCount)
            if let rate = source.ratePerSecond {
                end = try await dueIndex(rate: rate, upTo: end, deadline: limit.deadline)
            }
            if end > next {
                // Each record is made straight into its slot: no capacity and uniqueness check
                // per record, and no copy out of a temporary (see SpareCapacityFill).
                let range = next..<end
                _ = buffer.appendInPlace(count: range.count) { slots in
                    source.makeRange(range, slots)
                    return range.count
                }
            }
            next = end
            return end < source.count
        }

        /// The index up to which records are due at the configured rate, waiting (until the
        /// deadline at most) when none is due yet.
        @usableFromInline
        mutating func dueIndex(rate: Double, upTo end: Int, deadline: ContinuousClock.Instant) async throws -> Int {
            let clock = ContinuousClock()
            let origin = self.origin ?? (clock.now, next)
            self.origin = origin
            func due(at instant: ContinuousClock.Instant) -> Int {
                let elapsed = (instant - origin.instant).seconds
                return min(end, origin.index + Int(elapsed * rate))
            }
            var available = due(at: clock.now)
            if available <= next {
                let nextDue = origin.instant + .seconds(Double(next + 1 - origin.index) / rate)
                try await clock.sleep(until: min(nextDue, max(deadline, clock.now)))
                available = due(at: clock.now)
            }
            return max(next, available)
        }
    }
}

/// A ``GeneratorSource`` was made with a value it cannot generate from.
public struct GeneratorSourceError: Error, Sendable, CustomStringConvertible {
    /// The parameter: `count` or `ratePerSecond`.
    public let field: String
    public let value: String
    public let allowed: String

    public var description: String {
        "GeneratorSource: \(field) is \(value), but it must be \(allowed)"
    }
}
