/// The record every torture pipeline carries.
///
/// `key` is fixed at the source (each key belongs to one source) and no operator changes it, so
/// every keyed operator sees a key's records in the order its source read them, whatever the
/// interleaving of sources, partitions and restarts: a key's output sequence is defined, and a
/// lost, duplicated or reordered record shows as a difference in it. `origin` names the source
/// record a record came from (unique per job); `value` is what the operators transform.
public struct TortureRecord: Sendable, Hashable, Codable, CustomStringConvertible {
    public var key: Int
    public var origin: Int
    public var value: Int

    public init(key: Int, origin: Int, value: Int) {
        self.key = key
        self.origin = origin
        self.value = value
    }

    /// One line of a `FileSink`: `key origin value`.
    public var description: String { "\(key) \(origin) \(value)" }

    /// Parses ``description``.
    public init?(line: Substring) {
        let parts = line.split(separator: " ").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        self.init(key: parts[0], origin: parts[1], value: parts[2])
    }
}
