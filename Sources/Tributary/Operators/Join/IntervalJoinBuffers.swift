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

    @inlinable
    init() {}

    @inlinable
    var isEmpty: Bool { lefts.isEmpty && rights.isEmpty }
}
