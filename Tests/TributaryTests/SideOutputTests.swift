import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Side outputs: a window's late records go to the side output instead of being dropped,
/// exactly once across restores; the main stream names and configures the operator; a tag the
/// operator does not have is rejected. Keyed process functions send records to the side
/// outputs they declare, from records and timers, exactly once across failures and restores.
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

    // MARK: Keyed process functions

    static let odd = OutputTag<Int>("odd")
    static let large = OutputTag<String>("large")

    /// Per key: the running sum as the main output; odd values to `odd`; a line to `large` for
    /// each value over 90 and from each key's timer at the end of the input. `failures` throw
    /// after the call has sent to both outputs, set another timer and cleared the state, all
    /// of which must leave no trace; `timerFailures` throw after the timer's call has sent.
    static func sorting(
        _ stream: DataStream<Int>, failures: FailureInjector<Int>? = nil, timerFailures: FailureInjector<Int>? = nil
    ) -> DataStream<String> {
        stream.keyBy { $0 % 4 }.process(initial: 0, sideOutputs: [odd, large]) {
            (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in
            context.state += value
            context.emit("\(context.key) sum \(context.state)")
            if value % 2 == 1 { context.output(odd, value) }
            if value % 100 > 90 { context.output(large, "\(context.key) large \(value)") }
            context.timers.register(at: .seconds(1))
            do {
                try failures?.check(value)
            } catch {
                context.output(odd, -value)
                context.output(large, "failed call \(value)")
                // Had these stayed, a second timer line would fire at 777 and the sums be off.
                context.timers.register(at: .seconds(777))
                context.clearState()
                throw error
            }
        } onTimer: { context, _ in
            context.output(large, "\(context.key) timer \(context.state)")
            try timerFailures?.check(context.key)
        }.named("sort")
    }

    /// `sorting`'s three outputs by a plain loop.
    static func sorted(_ values: [Int]) -> (main: [String], odd: [Int], large: [String]) {
        var sums: [Int: Int] = [:]
        var main: [String] = []
        var odd: [Int] = []
        var large: [String] = []
        for value in values {
            sums[value % 4, default: 0] += value
            main.append("\(value % 4) sum \(sums[value % 4]!)")
            if value % 2 == 1 { odd.append(value) }
            if value % 100 > 90 { large.append("\(value % 4) large \(value)") }
        }
        for (key, sum) in sums { large.append("\(key) timer \(sum)") }
        return (main.sorted(), odd.sorted(), large.sorted())
    }

    @Test func aProcessFunctionSendsRecordsToTheSideOutputsItDeclares() async throws {
        let values = Array(0..<1_000)
        let env = try env("process-side")
        let main = CollectSink<String>()
        let odd = CollectSink<Int>()
        let large = CollectSink<String>()
        let sorted = Self.sorting(env.fromCollection(values)).parallelism(2)
        sorted.sink(main)
        sorted.sideOutput(Self.odd).sink(odd)
        sorted.sideOutput(Self.large).sink(large)
        let result = try await env.submit()
        let expected = Self.sorted(values)
        #expect(main.values.sorted() == expected.main)
        #expect(odd.values.sorted() == expected.odd)
        #expect(large.values.sorted() == expected.large)
        #expect(result[operator: "sort"]?.recordsIn == values.count, "named() on the main stream names the process operator")
    }

    /// A call (and a timer's call) that sent to both side outputs and then threw is retried:
    /// its side records are sent once, by the retry; then the same with checkpoints every millisecond and failures
    /// after all three outputs that escalate to restores. Each output is the failure-free
    /// run's, record for record.
    @Test func aProcessFunctionsSideOutputsAreExactlyOnceAcrossRetriesAndRestores() async throws {
        let values = Array(0..<3_000)
        let expected = Self.sorted(values)

        let retryEnv = try env("process-side-retry")
        let main = CollectSink<String>()
        let odd = CollectSink<Int>()
        let large = CollectSink<String>()
        let inCall = FailureInjector(failOn: [7, 93, 1_501, 2_999], times: 2)
        let inTimer = FailureInjector(failOn: [2], times: 1)
        let retried = Self.sorting(retryEnv.fromCollection(values), failures: inCall, timerFailures: inTimer)
            .supervised(.restart(.fixed(delay: .zero, maxAttempts: 100))).parallelism(2)
        retried.sink(main)
        retried.sideOutput(Self.odd).sink(odd)
        retried.sideOutput(Self.large).sink(large)
        _ = try await retryEnv.submit()
        #expect(inCall.thrownCount == 8)
        #expect(inTimer.thrownCount == 1)
        #expect(main.values.sorted() == expected.main)
        #expect(odd.values.sorted() == expected.odd, "no record of a failed call, none twice")
        #expect(large.values.sorted() == expected.large)

        func run(_ name: String, failures: FailureInjector<String>?) async throws -> [String: [String]] {
            let env = try env("process-side-restore", config: [
                "job_id": .string(name),
                "fault_tolerance": [
                    "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk-\(name)")),
                    "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
                ],
            ])
            let sorted = Self.sorting(env.fromSource(GeneratorSource(count: values.count) { values[$0] })).parallelism(2)
            let checked = { (stream: DataStream<String>, label: String) in
                stream.map { line -> String in
                    try failures?.check(line)
                    return line
                }.named("check-\(label)").supervised(.restoreCheckpoint)
                    .sink(FileSink(path: directory.path("\(name)-\(label).txt"))).named("out-\(label)")
            }
            _ = checked(sorted, "main")
            _ = checked(sorted.sideOutput(Self.odd).map { "odd \($0)" }, "odd")
            _ = checked(sorted.sideOutput(Self.large), "large")
            let result = try await env.submit()
            #expect(result.status == .completed)
            var lines: [String: [String]] = [:]
            for label in ["main", "odd", "large"] {
                lines[label] = try String(contentsOfFile: directory.path("\(name)-\(label).txt"), encoding: .utf8)
                    .split(separator: "\n").map(String.init).sorted()
            }
            return lines
        }
        let reference = try await run("reference", failures: nil)
        #expect(reference["odd"] == expected.odd.map { "odd \($0)" }.sorted())
        #expect(reference["large"] == expected.large)
        let failures = FailureInjector(failOn: [expected.main[100], "odd 1001", "3 timer \(values.filter { $0 % 4 == 3 }.reduce(0, +))"])
        let faulty = try await run("faulty", failures: failures)
        #expect(failures.thrownCount == 3)
        #expect(faulty == reference)
    }

    /// Sending to a tag the function did not declare, or with another value type, fails the
    /// call with an error that names the tag; two declared tags of one name and different
    /// types are rejected by submit().
    @Test func aProcessFunctionCannotSendToATagItDidNotDeclare() async throws {
        func failure(_ name: String, _ build: (DataStream<Int>) -> DataStream<String>) async throws -> String {
            let failing = try self.env(name)
            build(failing.fromCollection([1, 2, 3])).sink(CollectSink<String>())
            let error = await #expect(throws: JobFailedError.self) { try await failing.submit() }
            return String(describing: try #require(error).cause.error)
        }
        let undeclared = try await failure("undeclared") { stream in
            stream.keyBy { $0 }.process(initial: 0) { (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in
                context.emit("main \(value)")
                context.output(Self.odd, value)
            }
        }
        #expect(undeclared.contains("side output \"odd\", which it does not declare"))
        #expect(undeclared.contains("process(initial:sideOutputs:"))

        let other = try await failure("other-tag") { stream in
            stream.keyBy { $0 }.process(initial: 0, sideOutputs: [Self.large]) {
                (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in
                context.output(Self.odd, value)
            }
        }
        #expect(other.contains("side output \"odd\", which it does not declare (it declares \"large\")"))

        let retyped = try await failure("retyped") { stream in
            stream.keyBy { $0 }.process(initial: 0, sideOutputs: [Self.odd]) {
                (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in
                context.output(OutputTag<String>("odd"), "\(value)")
            }
        }
        #expect(retyped.contains("side output \"odd\" with a value of another type"))

        let env = try self.env("same-name")
        let stream = env.fromCollection([1]).keyBy { $0 }.process(initial: 0, sideOutputs: [Self.odd, OutputTag<String>("odd")]) {
            (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in context.emit("\(value)")
        }
        stream.sink(CollectSink<String>())
        let duplicate = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(duplicate?.message.contains("two side outputs are named \"odd\"") == true)
    }
}
