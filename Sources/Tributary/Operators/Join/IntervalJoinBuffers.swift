/// The records of one key that an interval join keeps, each with its event time, until the
/// watermark passes the last time a partner of it could have.
@usableFromInline
struct IntervalJoinBuffers<Left: Codable & Sendable, Right: Codable & Sendable>: Codable, Sendable {
    @usableFromInline
    struct Timed<Value: Codable & Sendable>: Codable, Sendable {
        @usableFromInline var time: Duration
        @usableFromInline var value: Value

        @inlinable
        init(time: Duration, value: Value) {
            self.time = time
            self.value = value
        }
    }

    @usableFromInline var lefts: [Timed<Left>] = []
    @usableFromInline var rights: [Timed<Right>] = []
    /// The key's one cleanup timer: the earliest time a kept record may go. One timer per key,
    /// not per record, keeps the timer queue as small as the number of keys.
    @usableFromInline var cleanupAt: Duration?

    @inlinable
    init() {}

    @inlinable
    var isEmpty: Bool { lefts.isEmpty && rights.isEmpty }
}
