import Tributary

// Dynamic failover: the pipeline's onFailure classifier decides per failure. Malformed lines
// are skipped into the dead letters, a timeout is retried under the restart strategy, and a
// schema mismatch aborts the job at once, without burning retries.

struct Malformed: Error, CustomStringConvertible {
    let line: String
    var description: String { "malformed line \"\(line)\"" }
}

struct SchemaMismatch: Error, CustomStringConvertible {
    let version: String
    var description: String { "unsupported schema version \(version)" }
}

func parse(_ line: String) throws -> (String, Int) {
    if line.hasPrefix("schema=") {
        let version = String(line.dropFirst(7))
        guard version == "1" else { throw SchemaMismatch(version: version) }
        return ("schema", 1)
    }
    let fields = line.split(separator: ",")
    guard fields.count == 2, let amount = Int(fields[1]) else { throw Malformed(line: line) }
    return (String(fields[0]), amount)
}

func run(_ lines: [String]) async throws {
    let env = try LocalEnvironment("dynamic_failover", config: ["fault_tolerance": ["delay": 0.001, "max_attempts": 3]])
    env.onFailure { failure in
        switch failure.error {
        case is SchemaMismatch: .abort
        case is Malformed: .skipRecord
        default: .normal
        }
    }
    let totals = CollectSink<String>()
    env.fromCollection(lines)
        .map(parse).named("parse")
        .filter { $0.0 != "schema" }
        .keyBy { $0.0 }
        .mapWithState(initial: 0) { (total: inout Int, entry: (String, Int)) in
            total += entry.1
            return (entry.0, total)
        }
        .map { "\($0.0)=\($0.1)" }
        .sink(totals)
    do {
        let result = try await env.submit()
        print("completed: \(totals.values.suffix(2)); skipped \(result.deadLetters.count): \(result.deadLetters.map(\.record))")
    } catch let failed as JobFailedError {
        print("aborted at once on \(failed.cause.error) after \(failed.history.count) failure(s), \(failed.result.restarts.count) restarts")
    }
}

try await run(["schema=1", "alice,10", "bob,5", "oops", "alice,7", "bob,-2"])
try await run(["schema=2", "alice,10"])
