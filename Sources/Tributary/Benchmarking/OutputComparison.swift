/// How a run's output differs from the reference output, record by record (each record one
/// line of text): which lines are missing, which came more often than in the reference
/// (duplicates), which changed — a missing line and an unexpected one paired by the longest
/// common beginning, as a record whose value differs (`sensor 7: 41` for `sensor 7: 42`) —
/// and which are unexpected otherwise.
public struct OutputComparison: Sendable, Equatable {
    public struct Change: Sendable, Equatable {
        public let expected: String
        public let actual: String
    }

    /// Lines of the reference missing from the output (one entry per missing occurrence).
    public let missing: [String]
    /// Lines of the reference that came more often (one entry per extra occurrence).
    public let duplicates: [String]
    public let changed: [Change]
    /// Lines the reference never had and no missing line pairs with.
    public let unexpected: [String]
    /// With ordered output: the first record at which it differs (`nil`: the same order).
    public let firstDifference: Int?

    public var isExact: Bool { missing.isEmpty && duplicates.isEmpty && changed.isEmpty && unexpected.isEmpty && firstDifference == nil }

    public init(expected: [String], actual: [String], ordered: Bool) {
        var counts: [String: Int] = [:]
        for line in expected { counts[line, default: 0] += 1 }
        var actualCounts: [String: Int] = [:]
        for line in actual { actualCounts[line, default: 0] += 1 }
        var missing: [String] = []
        var duplicates: [String] = []
        var unexpected: [String] = []
        for (line, count) in counts.sorted(by: { $0.key < $1.key }) {
            let seen = actualCounts[line] ?? 0
            if seen < count { missing += Array(repeating: line, count: count - seen) }
            if seen > count { duplicates += Array(repeating: line, count: seen - count) }
        }
        for (line, count) in actualCounts.sorted(by: { $0.key < $1.key }) where counts[line] == nil {
            unexpected += Array(repeating: line, count: count)
        }
        // Pair what is missing with what is unexpected, longest common beginning first: a
        // record with a changed value, not one lost and another made up.
        var pairs: [(missing: Int, unexpected: Int, shared: Int)] = []
        if missing.count * unexpected.count <= 1_000_000 {
            for (m, lost) in missing.enumerated() {
                for (u, made) in unexpected.enumerated() {
                    let shared = zip(lost, made).prefix { $0 == $1 }.count
                    if shared > 0 { pairs.append((m, u, shared)) }
                }
            }
        }
        var pairedMissing = Set<Int>()
        var pairedUnexpected = Set<Int>()
        var changed: [Change] = []
        for pair in pairs.sorted(by: { ($0.shared, $1.missing, $1.unexpected) > ($1.shared, $0.missing, $0.unexpected) })
        where !pairedMissing.contains(pair.missing) && !pairedUnexpected.contains(pair.unexpected) {
            pairedMissing.insert(pair.missing)
            pairedUnexpected.insert(pair.unexpected)
            changed.append(Change(expected: missing[pair.missing], actual: unexpected[pair.unexpected]))
        }
        self.missing = missing.enumerated().filter { !pairedMissing.contains($0.offset) }.map(\.element)
        self.unexpected = unexpected.enumerated().filter { !pairedUnexpected.contains($0.offset) }.map(\.element)
        self.duplicates = duplicates
        self.changed = changed.sorted { $0.expected < $1.expected }
        if ordered, expected != actual {
            firstDifference = zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(expected.count, actual.count)
        } else {
            firstDifference = nil
        }
    }

    /// The differences in words, a few examples each; empty when the output is exact.
    public var summary: [String] {
        func examples(_ lines: [String]) -> String { lines.prefix(3).map { "'\($0)'" }.joined(separator: ", ") }
        var found: [String] = []
        if !missing.isEmpty { found.append("\(missing.count) missing (e.g. \(examples(missing)))") }
        if !duplicates.isEmpty { found.append("\(duplicates.count) duplicated (e.g. \(examples(duplicates)))") }
        if !changed.isEmpty {
            found.append("\(changed.count) changed (e.g. \(changed.prefix(3).map { "'\($0.expected)' became '\($0.actual)'" }.joined(separator: ", ")))")
        }
        if !unexpected.isEmpty { found.append("\(unexpected.count) unexpected (e.g. \(examples(unexpected)))") }
        if let firstDifference, found.isEmpty { found.append("the same records in another order, first at record \(firstDifference)") }
        return found
    }
}
