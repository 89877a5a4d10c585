/// The records of one key (and, in a window join, one window) that wait for partners, in
/// arrival order: the state of a regular join and the accumulator of a window join.
@usableFromInline
struct JoinBuffers<Left: Codable & Sendable, Right: Codable & Sendable>: Codable, Sendable {
    @usableFromInline var lefts: [Left] = []
    @usableFromInline var rights: [Right] = []

    @inlinable
    init() {}

    @inlinable
    mutating func add(_ input: JoinInput<Left, Right>) {
        switch input {
        case .left(let left): lefts.append(left)
        case .right(let right): rights.append(right)
        }
    }

    @inlinable
    mutating func merge(_ other: JoinBuffers) {
        lefts.append(contentsOf: other.lefts)
        rights.append(contentsOf: other.rights)
    }
}
