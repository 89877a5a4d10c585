import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct CheckpointTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func config(_ extra: [String: ConfigValue] = [:], jobID: String? = nil) -> [String: ConfigValue] {
        var ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk")),
            "max_recovery_attempts": 10, "delay": 0, "max_attempts": 0,
        ]
        for (key, value) in extra { ft[key] = value }
        var config: [String: ConfigValue] = ["work_dir": .string(directory.path("work")), "batch_size": 64, "fault_tolerance": .object(ft)]
        if let jobID { config["job_id"] = .string(jobID) }
        return config
    }

    /// Running count per key over 0..<count (key = i % 7), as "key:count:i".
    static func expected(_ count: Int) -> [String] {
        var counts: [Int: Int] = [:]
        return (0..<count).map { i in
            counts[i % 7, default: 0] += 1
            return "\(i % 7):\(counts[i % 7]!):\(i)"
        }
    }

    func build(_ env: LocalEnvironment, count: Int, failures: FailureInjector<Int>, sink: some Sink<String>) {
        env.fromSource(GeneratorSource(count: count) { $0 })
            .map { value -> Int in
                try failures.check(value)
                return value
            }.named("check")
            .keyBy { $0 % 7 }
            .mapWithState(initial: 0) { (count: inout Int, value: Int) in
                count += 1
                return "\(value % 7):\(count):\(value)"
            }.named("count")
            .sink(sink).named("out")
    }

    func sortedPerKey(_ lines: [String]) -> [String] {
        lines.sorted { a, b in
            let x = a.split(separator: ":").compactMap { Int($0) }, y = b.split(separator: ":").compactMap { Int($0) }
            return (x[0], x[1]) < (y[0], y[1])
        }
    }

    @Test func aJobWithCheckpointsCommitsEverythingAtTheEnd() async throws {
        let env = try LocalEnvironment("chk", config: config())
        let sink = CollectSink<String>()
        build(env, count: 5000, failures: FailureInjector(failOn: []), sink: sink)
        let result = try await env.submit()
        #expect(sink.values == Self.expected(5000))
        #expect(!result.checkpoints.isEmpty)
        let root = URL(fileURLWithPath: directory.path("chk")).appendingPathComponent(env.jobID)
        let newest = try #require(CheckpointFiles.ids(in: root).first)
        let (restored, manifest) = try CheckpointFiles.load(root, id: newest)
        #expect(manifest.files.count == 2)
        #expect(restored.parts["count"]?[0] != nil)
        #expect(restored.parts["source-0"]?[0] != nil)
    }

    @Test func escalatedFailuresRestoreTheCheckpointAndOutputIsExactlyOnce() async throws {
        let env = try LocalEnvironment("recover", config: config())
        let sink = CollectSink<String>()
        build(env, count: 20_000, failures: FailureInjector(failOn: [3_000, 11_000, 19_999]), sink: sink)
        let result = try await env.submit()
        #expect(sink.values.count == 20_000)
        #expect(sink.values == Self.expected(20_000))
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count == 3)
    }
}
