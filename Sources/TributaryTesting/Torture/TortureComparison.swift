/// Compares what sinks committed with a failure-free run's output, key by key.
///
/// Per key the order is defined (see ``TortureRecord``), so each key's sequence must be equal;
/// across keys, sources and instances interleave freely and no order is compared.
public enum TortureComparison {
    /// The differences, one line each (empty: equal).
    /// - Parameter prefixOnly: accept, per key, any prefix of the expected sequence (for a job
    ///   that failed: what it committed must be exact as far as it goes).
    public static func differences(expected: [String: [TortureRecord]], actual: [String: [TortureRecord]], prefixOnly: Bool = false) -> [String] {
        var problems: [String] = []
        for sink in Set(expected.keys).union(actual.keys).sorted() {
            let want = byKey(expected[sink] ?? []), got = byKey(actual[sink] ?? [])
            var sinkProblems: [String] = []
            for key in Set(want.keys).union(got.keys).sorted() {
                let w = want[key] ?? [], g = got[key] ?? []
                if prefixOnly ? (g.count <= w.count && Array(w.prefix(g.count)) == g) : w == g { continue }
                sinkProblems.append("key \(key): " + describe(expected: w, actual: g))
            }
            if !sinkProblems.isEmpty {
                let total = (expected[sink] ?? []).count, committed = (actual[sink] ?? []).count
                problems.append("sink \(sink): \(committed) records committed, \(total) expected; \(sinkProblems.count) key(s) differ")
                problems.append(contentsOf: sinkProblems.prefix(3).map { "  " + $0 })
            }
        }
        return problems
    }

    static func byKey(_ records: [TortureRecord]) -> [Int: [TortureRecord]] {
        Dictionary(grouping: records, by: \.key)
    }

    static func describe(expected: [TortureRecord], actual: [TortureRecord]) -> String {
        let index = (0..<min(expected.count, actual.count)).first { expected[$0] != actual[$0] } ?? min(expected.count, actual.count)
        var text = "\(actual.count) records, \(expected.count) expected; first difference at #\(index)"
        text += ": expected " + (index < expected.count ? "\(expected[index])" : "nothing")
        text += ", got " + (index < actual.count ? "\(actual[index])" : "nothing")
        var wanted: [Int: Int] = [:], seen: [Int: Int] = [:]
        for record in expected { wanted[record.origin, default: 0] += 1 }
        for record in actual { seen[record.origin, default: 0] += 1 }
        let missing = wanted.keys.filter { seen[$0] == nil }.sorted()
        let duplicated = seen.filter { origin, count in count > wanted[origin, default: 0] }.keys.sorted()
        if !missing.isEmpty { text += "; origins missing: \(missing.prefix(5))" + (missing.count > 5 ? " and \(missing.count - 5) more" : "") }
        if !duplicated.isEmpty { text += "; origins duplicated: \(duplicated.prefix(5))" }
        return text
    }
}
