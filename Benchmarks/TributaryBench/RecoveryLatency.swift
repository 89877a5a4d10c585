import Foundation
import Synchronization
import Tributary

/// Operator-restart recovery latency: a map that throws once on every `every`-th record,
/// restarted with a fixed delay of 0; the runtime measures each recovery from the throw to the
/// retried record (and the rest of its batch) processed.
enum RecoveryLatency {
    struct Report {
        let failures: Int
        let latencies: [Duration]
        let records: Int
        let outputCorrect: Bool

        func percentile(_ p: Double) -> Duration {
            guard !latencies.isEmpty else { return .zero }
            let index = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
            return latencies[max(0, index)]
        }
    }

    static func run(records: Int, every: Int, workDirectory: String) async throws -> Report {
        let env = try LocalEnvironment("restart-latency", config: [
            "work_dir": .string(workDirectory),
            "fault_tolerance": ["strategy": "restart", "restart_strategy": "fixed", "delay": 0, "max_attempts": .int(records)],
        ])
        let lastFailed = Atomic<Int>(-1)
        let sink = CountingSink()
        env.fromSource(GeneratorSource(count: records) { i in Event(key: i % W1.keys, value: i) })
            .map { event -> Event in
                if event.value % every == 0, lastFailed.exchange(event.value, ordering: .relaxed) != event.value {
                    throw InjectedCrash(record: event.value)
                }
                return Event(key: event.key, value: event.value &* 2)
            }
            .named("flaky")
            .keyBy { $0.key }
            .reduce { Event(key: $0.key, value: $0.value &+ $1.value) }
            .sink(sink)
        let result = try await env.submit()
        let expected = W1.plainLoop(records: records)
        return Report(
            failures: result.restarts.count, latencies: result.recoveries.map(\.latency).sorted(), records: records,
            outputCorrect: Outcome(count: sink.count, checksum: sink.checksum) == expected)
    }

    struct InjectedCrash: Error {
        let record: Int
    }
}

extension Duration {
    var microseconds: Double {
        Double(components.seconds) * 1e6 + Double(components.attoseconds) / 1e12
    }
}
