import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Found by the torture test (seed 9): a parallel keyed operator restored from a checkpoint
/// emitted a record a second time.
@Suite struct ParallelKeyedRestoreTests {
    @Test(arguments: 0..<20)
    func aParallelKeyedOperatorRestoredFromACheckpointEmitsEachRecordOnce(run: Int) async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("keyed-restore", config: [
            "work_dir": .string(directory.path("work")), "batch_size": 4,
            "fault_tolerance": [
                "strategy": "checkpoint", "checkpoint_interval": 0.005, "checkpoint_dir": .string(directory.path("chk")),
                "max_recovery_attempts": 20, "delay": 0, "max_attempts": 0,
            ],
        ])
        let failures = FailureInjector(failOn: [60, 130, 200])
        let sink = CollectSink<String>()
        env.fromSource(GeneratorSource(count: 240) { $0 }).named("numbers")
            .keyBy { $0 % 8 }
            .mapWithState(initial: 0) { (count: inout Int, value: Int) in
                try failures.check(value)
                count += 1
                return "\(value % 8):\(count):\(value)"
            }.named("count").parallelism(4)
            .sink(sink).named("out")
        let result = try await env.submit()
        let values = sink.values
        let seen = values.map { $0.split(separator: ":").last.map(String.init) ?? "" }
        #expect(Set(seen).count == seen.count, "run \(run): duplicates \(Dictionary(grouping: seen, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()); recoveries \(result.recoveries.count)")
        #expect(values.count == 240, "run \(run)")
    }
}
