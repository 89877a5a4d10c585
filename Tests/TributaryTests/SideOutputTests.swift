import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Side outputs: a window's late records go to the side output instead of being dropped,
/// exactly once across restores; the main stream names and configures the operator; a tag the
/// operator does not have is rejected.
@Suite struct SideOutputTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct Tick: Sendable, Hashable, Codable {
        let id: Int
        let key: Int
        let time: Duration
    }

    /// Every 7th tick 300 ms behind, past the 20 ms watermark delay: late for its windows.
    static let ticks = (0..<3_000).map { i in
        Tick(id: i, key: i % 5, time: .milliseconds(max(0, i * 3 + (i % 4) * 5 - (i % 7 == 0 ? 300 : 0))))
    }

    static let late = OutputTag<Tick>("late")

    static func ms(_ time: Duration) -> Int { Int((time / .milliseconds(1)).rounded(.down)) }

    func env(_ name: String, config: [String: ConfigValue] = [:]) throws -> LocalEnvironment {
        var config = config
        config["work_dir"] = .string(directory.path("work"))
        config["batch_size"] = 16
        return try LocalEnvironment(name, config: config)
    }

    /// Per-window counts of `ticks`, with or without the late side output.
    static func counts(_ env: LocalEnvironment, sideOutput: Bool) -> DataStream<String> {
        var windowed = env.fromSource(GeneratorSource(count: ticks.count) { ticks[$0] }).named("ticks")
            .withTimestamps({ $0.time }, watermarks: .boundedOutOfOrderness(.milliseconds(20)))
            .keyBy { $0.key }.window(.tumbling(size: .milliseconds(100)), eventTime: { $0.time })
        if sideOutput { windowed = windowed.sideOutputLateData(late) }
        return windowed.aggregate(initial: 0, add: { count, _ in count += 1 }) { key, window, count in "\(key)@\(ms(window.start)) \(count)" }
            .named("count").parallelism(2)
    }

    @Test func lateRecordsGoToTheSideOutputInsteadOfBeingDropped() async throws {
        let plainEnv = try env("late-dropped")
        let plainSink = CollectSink<String>()
        Self.counts(plainEnv, sideOutput: false).sink(plainSink)
        let plain = try await plainEnv.submit()
        let dropped = try #require(plain[operator: "count"]?.lateRecordsDropped)
        #expect(dropped > 50, "the input has late records")

        let sideEnv = try env("late-side")
        let mainSink = CollectSink<String>()
        let lateSink = CollectSink<Tick>()
        let counts = Self.counts(sideEnv, sideOutput: true)
        counts.sink(mainSink)
        counts.sideOutput(Self.late).sink(lateSink)
        let result = try await sideEnv.submit()
        #expect(mainSink.values.sorted() == plainSink.values.sorted(), "the windows are the same")
        #expect(lateSink.values.count == dropped, "every record that was dropped went to the side output")
        #expect(result[operator: "count"]?.lateRecordsDropped == 0, "named() on the main stream names the window operator")
        let counted = mainSink.values.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
        #expect(counted + lateSink.values.count == Self.ticks.count, "every record is counted or late, once")
        #expect(lateSink.values.allSatisfy { $0.id % 7 == 0 }, "only the records 300 ms behind are late")
    }

    /// Checkpoints every millisecond and failures after both outputs that escalate to restores:
    /// each output is that of a run without failures, record for record.
    @Test func theSideOutputIsExactlyOnceAcrossRestores() async throws {
        func run(_ name: String, failures: FailureInjector<String>?) async throws -> (main: [String], late: [String], result: JobResult) {
            let env = try env("side-restore", config: [
                "job_id": .string(name),
                "fault_tolerance": [
                    "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk-\(name)")),
                    "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
                ],
            ])
            let counts = Self.counts(env, sideOutput: true)
            let checked = { (stream: DataStream<String>, label: String) in
                stream.map { line -> String in
                    try failures?.check(line)
                    return line
                }.named("check-\(label)").supervised(.restoreCheckpoint)
                    .sink(FileSink(path: directory.path("\(name)-\(label).txt"))).named("out-\(label)")
            }
            _ = checked(counts, "main")
            _ = checked(counts.sideOutput(Self.late).map { "late \($0.id)" }, "late")
            let result = try await env.submit()
            #expect(result.status == .completed)
            func lines(_ label: String) throws -> [String] {
                try String(contentsOfFile: directory.path("\(name)-\(label).txt"), encoding: .utf8).split(separator: "\n").map(String.init).sorted()
            }
            return (try lines("main"), try lines("late"), result)
        }
        let reference = try await run("reference", failures: nil)
        #expect(reference.late.count > 50)
        let failures = FailureInjector(failOn: [reference.main[5], reference.late[10], reference.late[reference.late.count - 2]])
        let faulty = try await run("faulty", failures: failures)
        #expect(failures.thrownCount == 3)
        #expect(faulty.result.recoveries.filter { $0.kind == .checkpointRestore }.count >= 1)
        #expect(faulty.main == reference.main)
        #expect(faulty.late == reference.late)
    }

    @Test func aSideOutputTheOperatorDoesNotHaveIsRejected() async throws {
        let env = try env("no-side")
        env.fromCollection([1, 2]).map { $0 * 2 }.named("double").sideOutput(OutputTag<Int>("late")).sink(CollectSink<Int>())
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("sideOutput(\"late\") of 'double'") == true)

        let typed = try self.env("wrong-type")
        let counts = Self.counts(typed, sideOutput: true)
        counts.sink(CollectSink<String>())
        counts.sideOutput(OutputTag<Int>("late")).sink(CollectSink<Int>())
        let mismatch = await #expect(throws: PipelineError.self) { try await typed.submit() }
        #expect(mismatch?.message.contains("holding Int") == true)

        let sideOnly = try self.env("side-only")
        Self.counts(sideOnly, sideOutput: true).sideOutput(Self.late).sink(CollectSink<Tick>())
        let unconsumed = await #expect(throws: PipelineError.self) { try await sideOnly.submit() }
        #expect(unconsumed?.message.contains("the main output of 'count' is never consumed") == true)
    }
}
