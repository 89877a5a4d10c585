import Foundation
import Tributary

// A DAG rather than a chain: two sources are merged (union), the merged stream feeds two
// branches (fan-out) ending in two sinks: per-user totals with keyed state, and a file of
// large payments. With checkpoints, both sinks' output is exactly-once.

struct Payment: Codable, Sendable {
    var user: String
    var cents: Int
}

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-fan-out-union")
try? FileManager.default.removeItem(at: folder)
let env = try LocalEnvironment("fan_out_union", config: [
    "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 0.01, "checkpoint_dir": .string(folder.appendingPathComponent("checkpoints").path)],
    "work_dir": .string(folder.appendingPathComponent("jobs").path),
])
let cards = env.fromSource(GeneratorSource(count: 5_000) { Payment(user: "user\($0 % 7)", cents: ($0 * 37) % 10_000) }).named("cards")
let transfers = env.fromSource(GeneratorSource(count: 3_000) { Payment(user: "user\($0 % 5)", cents: ($0 * 53) % 50_000) }).named("transfers")
let payments = cards.union(transfers).named("payments")

let totals = CollectSink<(String, Int)>()
payments.keyBy { $0.user }
    .mapWithState(initial: 0) { (total: inout Int, payment: Payment) in
        total += payment.cents
        return (payment.user, total)
    }
    .named("totals").parallelism(2)
    .sink(totals)

let largePath = folder.appendingPathComponent("large.txt").path
payments.filter { $0.cents >= 40_000 }.named("large")
    .map { "\($0.user) \($0.cents)" }
    .sink(FileSink(path: largePath))

let result = try await env.submit()
var latest: [String: Int] = [:]
for (user, total) in totals.values { latest[user] = total }
let expectedTotal = (0..<5_000).reduce(0) { $0 + ($1 * 37) % 10_000 } + (0..<3_000).reduce(0) { $0 + ($1 * 53) % 50_000 }
let large = try String(contentsOfFile: largePath, encoding: .utf8).split(separator: "\n").count
let expectedLarge = (0..<3_000).filter { ($0 * 53) % 50_000 >= 40_000 }.count
print("payments: \(totals.values.count) running totals for \(latest.count) users; sum \(latest.values.reduce(0, +)) (expected \(expectedTotal))")
print("large payments file: \(large) lines (expected \(expectedLarge)); \(result.checkpoints.count) checkpoints")
if latest.values.reduce(0, +) != expectedTotal || large != expectedLarge || totals.values.count != 8_000 {
    print("MISMATCH")
    exit(1)
}
