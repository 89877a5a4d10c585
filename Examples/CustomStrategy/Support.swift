import Synchronization

struct ParseError: Error, CustomStringConvertible {
    let line: String
    var description: String { "not a number: \"\(line)\"" }
}

struct TransientError: Error, CustomStringConvertible {
    let line: String
    var description: String { "temporary failure on \"\(line)\"" }
}

/// Fails lines 5 and 17 once each, as a flaky dependency would.
final class FlakyOnce: Sendable {
    private let failed = Mutex<Set<String>>([])
    func shouldFail(_ line: String) -> Bool {
        guard line == "5" || line == "17" else { return false }
        return failed.withLock { $0.insert(line).inserted }
    }
}
