import Foundation
import Synchronization
import Tributary

// Replica takeover two ways — `.supervised(.failover(...))` on the operator, and the same decided
// by a registered strategy ("replica_takeover") — against a run without failures. Instance 1 of
// 'enrich' is a bad replica: it fails on every 500th of its records (fault_injection) and
// restarts after 50 ms, while its two siblings take its input.

try FaultToleranceRegistry.register("replica_takeover") { options in try ReplicaTakeoverStrategy(options: options) }

let count = 300_000
let badReplica: ConfigValue = ["operator": "enrich", "instance": 1, "inject": "throw", "every_records": 500]

func run(_ label: String, faultTolerance: ConfigValue, policy: SupervisionPolicy?, faults: ConfigValue) async throws -> [Int] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replica-takeover-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let env = try LocalEnvironment("replica_takeover", config: [
        "work_dir": .string(directory.path), "fault_tolerance": faultTolerance, "fault_injection": faults,
    ])
    let takeovers = Atomic<Int>(0)
    env.onEvent { event in
        if event.kind == .failoverStart { takeovers.add(1, ordering: .relaxed) }
    }
    let sink = CollectSink<Int>()
    var enriched = env.fromSource(GeneratorSource(count: count) { $0 })
        .map { value in (value &* 2_654_435_761) % 1_000_003 }
        .named("enrich").parallelism(3)
    if let policy { enriched = enriched.supervised(policy) }
    enriched.sink(sink)
    let result = try await env.submit()
    let line = [
        label.padding(toLength: 34, withPad: " ", startingAt: 0),
        "\(sink.values.count) records", "\(result.restarts.count) restarts", "\(takeovers.load(ordering: .relaxed)) takeovers",
        String(format: "%.2f s", Double(result.wallTime.components.seconds) + Double(result.wallTime.components.attoseconds) / 1e18),
    ].joined(separator: "  ")
    print(line)
    return sink.values.sorted()
}

let reference = try await run("no failures", faultTolerance: [:], policy: nil, faults: [])
let policy = try await run(
    "supervised(.failover(...))", faultTolerance: [:],
    policy: .failover(.fixed(delay: .milliseconds(50), maxAttempts: 1_000)), faults: badReplica)
let strategy = try await run(
    "strategy \"replica_takeover\"", faultTolerance: ["strategy": "replica_takeover", "restart_delay": 0.05], policy: nil, faults: badReplica)
print("same records as without failures, each once: \(policy == reference && strategy == reference ? "yes" : "NO")")
