import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `keyBy { }.process(initial:)`: any number of outputs per record, per-key state, and timers
/// that fire in order, while the instance is idle, at the end of the input, and after a restore.
@Suite struct KeyedProcessTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct Reading: Sendable, Hashable, Codable {
        let key: Int
        let value: Int
        let index: Int
    }

    static let readings = (0..<2_000).map { Reading(key: $0 % 7, value: ($0 * 37) % 101, index: $0) }

    /// The first records each set a timer no later record sets again: a timer a restore or a
    /// stop loses shows as a missing line (the other timers are set again by later records).
    static let ownTimers = 300

    /// What the process functions below emit, computed by a plain loop: per key, each record's
    /// outputs, then (at the end of the input) its event-time timers in time order.
    static func expected(_ readings: [Reading]) -> [Int: [String]] {
        var out: [Int: [String]] = [:]
        var sums: [Int: Int] = [:]
        var timers: [Int: Set<Int>] = [:]
        for reading in readings {
            sums[reading.key, default: 0] += reading.value
            let sum = sums[reading.key]!
            for copy in 0..<(reading.value % 3) { out[reading.key, default: []].append("r \(reading.value) \(sum) \(copy)") }
            timers[reading.key, default: []].insert(reading.value % 10)
            if reading.index < ownTimers { timers[reading.key, default: []].insert(5_000 + reading.index) }
            if reading.value % 10 == 9 { timers[reading.key]?.remove(3) }
        }
        for (key, times) in timers {
            // The handler of the first timer sets one more, at 1000: it fires in its place.
            for time in times.union([1000]).sorted() { out[key, default: []].append("t \(time) \(sums[key, default: 0])") }
        }
        return out
    }

    /// Groups "key|line" records by key, in order; a line without a key is grouped under -1.
    static func group(_ lines: [String]) -> [Int: [String]] {
        var out: [Int: [String]] = [:]
        for line in lines {
            let parts = line.split(separator: "|", maxSplits: 1)
            guard parts.count == 2, let key = Int(parts[0]) else {
                out[-1, default: []].append(line)
                continue
            }
            out[key, default: []].append(String(parts[1]))
        }
        return out
    }

    /// The process function again, with its key in each output line.
    static func keyed(_ stream: DataStream<Reading>, failures: FailureInjector<Int>? = nil, timerFailures: FailureInjector<Int>? = nil)
        -> DataStream<String>
    {
        stream.keyBy { $0.key }.process(initial: 0) {
            (context: inout KeyedProcessContext<Int, Int, String>, reading: Reading) in
            context.state += reading.value
            context.timers.register(at: .seconds(reading.value % 10))
            if reading.index < ownTimers { context.timers.register(at: .seconds(5_000 + reading.index)) }
            if reading.value % 10 == 9 { context.timers.delete(at: .seconds(3)) }
            for copy in 0..<(reading.value % 3) { context.emit("\(context.key)|r \(reading.value) \(context.state) \(copy)") }
            do {
                try failures?.check(reading.value * 100 + reading.key)
            } catch {
                // What a failing call did must vanish with it: had it stayed, a timer at 777
                // would fire, this line would be in the output and the sums would be off.
                context.timers.register(at: .seconds(777))
                context.timers.delete(at: .seconds(reading.value % 10))
                context.emit("\(context.key)|failed call")
                context.state += 1_000_000
                throw error
            }
        } onTimer: { context, timer in
            let second = Int(timer.time.components.seconds)
            context.emit("\(context.key)|t \(second) \(context.state)")
            if second < 10 { context.timers.register(at: .seconds(1000)) }
            try timerFailures?.check(second * 100 + context.key)
        }.named("process")
    }

    @Test func eachRecordEmitsAnyNumberAndTimersFireInTimeOrderWhenTheInputEnds() async throws {
        let env = try LocalEnvironment("process")
        let sink = CollectSink<String>()
        Self.keyed(env.fromCollection(Self.readings)).parallelism(3).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        let expected = Self.expected(Self.readings)
        #expect(Self.group(sink.values) == expected)
        #expect(result[operator: "process"]?.recordsIn == Self.readings.count)
        #expect(result[operator: "process"]?.recordsOut == expected.values.map(\.count).reduce(0, +))
    }

    /// A call that changed the state, set and deleted timers and emitted, then threw, leaves no
    /// trace: the restarted operator retries it (records and timers alike) exactly.
    @Test func aThrowingCallChangesNothingAndItsRetryIsExact() async throws {
        let env = try LocalEnvironment("process-retry")
        let sink = CollectSink<String>()
        let failing = Set(Self.readings.prefix(300).filter { $0.value % 3 != 0 }.map { $0.value * 100 + $0.key })
        let failures = FailureInjector(failOn: Set(failing.prefix(20)), times: 2)
        let timerFailures = FailureInjector(failOn: [4 * 100 + 2, 1000 * 100 + 5], times: 1)
        Self.keyed(env.fromCollection(Self.readings), failures: failures, timerFailures: timerFailures)
            .supervised(.restart(.fixed(delay: .zero, maxAttempts: 100))).parallelism(2)
            .sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(failures.thrownCount == 40)
        #expect(timerFailures.thrownCount == 2)
        #expect(Self.group(sink.values) == Self.expected(Self.readings))
    }

    /// A timer whose handler keeps failing is dropped by `.resume` (the supervisor skips it);
    /// the other timers still fire.
    @Test(.timeLimit(.minutes(3))) func aSkippedTimerIsDroppedAndTheOthersFire() async throws {
        let env = try LocalEnvironment("process-skip")
        let sink = CollectSink<String>()
        let timerFailures = FailureInjector(failOn: [4 * 100 + 1], times: .max)
        Self.keyed(env.fromCollection(Self.readings), timerFailures: timerFailures).supervised(.resume).sink(sink)
        _ = try await env.submit()
        var expected = Self.expected(Self.readings)
        expected[1]?.removeAll { $0.hasPrefix("t 4 ") }
        #expect(Self.group(sink.values) == expected)
    }

    /// A processing-time timer fires when the job's clock reaches it, also while no record
    /// arrives (the instance is woken on its control lane); one still pending when the input
    /// ends does not fire, and an event says so.
    @Test(.timeLimit(.minutes(3))) func aProcessingTimeTimerFiresOnTheJobClockWhileTheInputIsIdle() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("process-time", config: ["work_dir": .string(directory.path("work"))], clock: clock)
        let source = HoldingSource(count: 10, holdAt: 5, blocking: false)
        let fired = Gate()
        let sink = CollectSink<String>()
        env.fromSource(source).keyBy { _ in 0 }.process(initial: 0) {
            (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in
            context.emit("r\(value)")
            if value == 4 { context.timers.register(at: context.currentProcessingTime + .seconds(10), .processingTime) }
            if value == 9 { context.timers.register(at: context.currentProcessingTime + .seconds(3600), .processingTime) }
        } onTimer: { context, timer in
            context.emit("t \(timer.domain.rawValue) \(timer.time)")
            fired.open()
        }.sink(sink)
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        let job = Task { try await env.submit() }
        await source.reached.wait()
        // The instance handled record 4 and now sleeps until its timer is due.
        #expect(await clock.nextSleep() == .seconds(10))
        clock.advance(by: .seconds(10))
        await fired.wait()
        source.release.open()
        let result = try await job.value
        await recorder.wait(for: .jobComplete)
        recording.cancel()
        #expect(result.status == .completed)
        #expect(sink.values == ["r0", "r1", "r2", "r3", "r4", "t processingTime 10.0 seconds", "r5", "r6", "r7", "r8", "r9"])
        #expect(recorder.events(.warning).contains { $0.message.contains("1 processing-time timers were pending when the input ended") })
    }

    struct Click: Sendable { let user: String }
    struct Session: Codable, Sendable {
        var clicks = 0
        var quietAt: Duration?
    }
    struct SessionEnded: Sendable, Equatable {
        let user: String
        let clicks: Int
    }

    /// The documentation's example: a session ends after 30 s without a click. A click within
    /// the 30 s deletes the pending timer and sets a later one; only that one fires.
    @Test(.timeLimit(.minutes(3))) func theSessionExampleDeletesAndReplacesItsTimer() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("sessions", config: ["work_dir": .string(directory.path("work"))], clock: clock)
        let (clicks, feed) = AsyncStream.makeStream(of: Click.self)
        let sink = CollectSink<SessionEnded>()
        env.fromSource(AsyncSequenceSource(clicks)).keyBy { $0.user }.process(initial: Session()) { context, click in
            if let old = context.state.quietAt { context.timers.delete(at: old, .processingTime) }
            let quietAt = context.currentProcessingTime + .seconds(30)
            context.state.clicks += 1
            context.state.quietAt = quietAt
            context.timers.register(at: quietAt, .processingTime)
        } onTimer: { context, _ in
            context.emit(SessionEnded(user: context.key, clicks: context.state.clicks))
            context.clearState()
        }.sink(sink)
        let job = Task { try await env.submit() }
        feed.yield(Click(user: "ann"))
        #expect(await clock.nextSleep() == .seconds(30), "the session's timer is set 30 s ahead")
        clock.advance(by: .seconds(10))
        feed.yield(Click(user: "ann"))
        #expect(await clock.nextSleep() == .seconds(30), "the second click moves it to 40 s")
        // Past the first timer's time too: had it not been deleted, it would end the session
        // at 30 s and a second, empty one at 40 s.
        clock.advance(by: .seconds(30))
        feed.finish()
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(sink.values == [SessionEnded(user: "ann", clicks: 2)])
    }

    /// A handler that sets a follow-up timer (earlier than other keys' pending ones) does not
    /// hold the others back: at the end of the input every timer fires, for any number of keys.
    @Test func followUpTimersDoNotHoldOthersBackAtTheEndOfTheInput() async throws {
        let env = try LocalEnvironment("cascade")
        let sink = CollectSink<String>()
        let keys = 1_500
        env.fromCollection(Array(0..<keys)).keyBy { $0 }.process(initial: 0) {
            (context: inout KeyedProcessContext<Int, Int, String>, key: Int) in
            context.timers.register(at: .seconds(10 * (key + 1)))
        } onTimer: { context, timer in
            context.emit("\(context.key) \(timer.time.components.seconds)")
            if timer.time.components.seconds % 10 == 0 { context.timers.register(at: timer.time + .seconds(1)) }
        }.sink(sink)
        _ = try await env.submit()
        let expected = (0..<keys).flatMap { key in ["\(key) \(10 * (key + 1))", "\(key) \(10 * (key + 1) + 1)"] }
        #expect(sink.values.sorted() == expected.sorted())
        #expect(sink.values.count == 2 * keys)
    }

    /// A handler that registers a new timer each time one fires would keep the final watermark
    /// firing forever: the operator fails with an error that says so.
    @Test func aHandlerThatAlwaysSetsAnotherTimerFailsTheJobWithAClearError() async throws {
        let env = try LocalEnvironment("endless")
        env.fromCollection([1]).keyBy { $0 }.process(initial: 0) {
            (context: inout KeyedProcessContext<Int, Int, Int>, value: Int) in
            context.timers.register(at: .seconds(1))
        } onTimer: { context, timer in
            context.timers.register(at: timer.time + .seconds(1))
        }.supervised(.escalate).sink(CollectSink<Int>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error.map { "\($0)" }?.contains("kept registering new event-time timers") == true, "\(String(describing: error))")
    }

    /// A handler may set a processing-time timer for the time being fired: it fires at once,
    /// without the clock moving again (the waker wakes the loop for a deadline already passed).
    @Test(.timeLimit(.minutes(3))) func aTimerSetForTheTimeBeingFiredFiresWithoutTheClockMoving() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("rearm", config: ["work_dir": .string(directory.path("work"))], clock: clock)
        let source = HoldingSource(count: 2, holdAt: 1, blocking: false)
        let third = Gate()
        let sink = CollectSink<String>()
        env.fromSource(source).keyBy { _ in 0 }.process(initial: 0) {
            (context: inout KeyedProcessContext<Int, Int, String>, value: Int) in
            if value == 0 { context.timers.register(at: context.currentProcessingTime + .seconds(5), .processingTime) }
        } onTimer: { context, timer in
            context.state += 1
            context.emit("fired \(context.state) at \(timer.time)")
            if context.state < 3 {
                context.timers.register(at: timer.time, .processingTime)
            } else {
                third.open()
            }
        }.sink(sink)
        let job = Task { try await env.submit() }
        await source.reached.wait()
        #expect(await clock.nextSleep() == .seconds(5))
        clock.advance(by: .seconds(5))
        await third.wait()
        source.release.open()
        _ = try await job.value
        #expect(sink.values == ["fired 1 at 5.0 seconds", "fired 2 at 5.0 seconds", "fired 3 at 5.0 seconds"])
    }

    /// Moving a timer again and again (delete, register later) keeps the queue's size bounded
    /// by the timers pending, not by how often they moved.
    @Test func movedTimersDoNotPileUpInTheQueue() {
        var queue = TimerQueue<Int>()
        for step in 0..<10_000 {
            let key = step % 10
            queue.delete(.init(key: key, time: .seconds(step - 10), domain: .eventTime))
            queue.register(.init(key: key, time: .seconds(step), domain: .eventTime))
        }
        #expect(queue.pending.count == 10)
        #expect(queue.eventTime.nodes.count <= 2 * 10 + 64 + 1)
        var fired: [Int] = []
        while let (timer, _) = queue.peek(.eventTime) {
            queue.removePeeked(timer)
            fired.append(Int(timer.time.components.seconds))
        }
        #expect(fired == Array(9_990..<10_000))
    }

    /// A key whose state was cleared is not stored again by a later call that only reads it.
    @Test func aClearedKeyStaysGoneWhenALaterCallOnlyReadsIt() {
        let input = BatchBuffer<Int>(capacity: 8)
        let output = BatchBuffer<Int>(capacity: 8)
        let context = StepContext(
            jobID: "unit", nodeID: 0, operatorName: "process", instance: 0, parallelism: 1, batchSize: 8, deliversCommits: false,
            operatorTimeout: nil, now: { .zero }, processingTime: { .zero }, emit: { _ in })
        let instance = KeyedProcessInstance<Int, Int, Int, Int>(
            initial: 0, key: { $0 % 2 },
            handle: { context, value in
                if value < 10 {
                    context.state += value
                } else if value < 20 {
                    context.clearState()
                } else {
                    context.emit(context.state)
                }
            },
            onTimer: { _, _ in }, input: input, output: output, context: context)
        input.items = [2, 3]
        _ = instance.process(from: 0)
        #expect(instance.table == [0: 2, 1: 3])
        input.items = [10, 21, 20]
        _ = instance.process(from: 0)
        #expect(instance.table == [1: 3], "key 0 was cleared, then only read")
        #expect(output.items == [3, 0])
    }

    /// State and timers are part of checkpoints: a failure downstream restores the last
    /// checkpoint, and the output is record for record the failure-free one (no timer lost or
    /// fired twice).
    @Test func stateAndTimersComeBackWithACheckpointRestore() async throws {
        let env = try LocalEnvironment("process-restore", config: config(jobID: "restore", interval: 0.001))
        let expected = Self.expected(Self.readings)
        // Two records mid-stream, and a timer's output while the input's end fires timers.
        let failures = FailureInjector(failOn: ["3|" + expected[3]![100], "5|" + expected[5]![250], "2|" + expected[2]!.last!])
        let output = directory.path("restore.txt")
        Self.keyed(env.fromSource(GeneratorSource(count: Self.readings.count) { Self.readings[$0] }).named("readings")).parallelism(2)
            .map { line -> String in
                try failures.check(line)
                return line
            }.named("check").supervised(.restoreCheckpoint)
            .sink(FileSink(path: output)).named("out")
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count >= 1)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Self.group(lines) == expected)
        #expect(failures.thrownCount == 3)
    }

    /// A stop is not the end of the input: pending event-time timers stay in the final
    /// checkpoint and fire once, when the resumed job's input ends — also with more instances.
    @Test func aStopKeepsTimersForTheResumeAndTheyFireOnceThere() async throws {
        let output = directory.path("stop.txt")
        let first = try LocalEnvironment("process-stop", config: config(jobID: "stop"))
        let source = HoldingSource(count: Self.readings.count, holdAt: 800, blocking: false)
        Self.keyed(first.fromSource(source).named("readings").map { Self.readings[$0] }.named("lookup")).parallelism(2)
            .sink(FileSink(path: output)).named("out")
        let job = Task { try await first.submit() }
        await source.reached.wait()
        first.stop()
        let stopped = try await job.value
        #expect(stopped.status == .stopped)
        let committed = try String(contentsOfFile: output, encoding: .utf8)
        #expect(!committed.contains("|t "), "no timer fired at the stop")

        let second = try LocalEnvironment("process-stop", config: config(jobID: "stop"))
        let rest = HoldingSource(count: Self.readings.count, holdAt: Self.readings.count, blocking: false)
        Self.keyed(second.fromSource(rest).named("readings").map { Self.readings[$0] }.named("lookup")).parallelism(3)
            .sink(FileSink(path: output)).named("out")
        let resumed = try await second.submit()
        #expect(resumed.status == .completed)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(Self.group(lines) == Self.expected(Self.readings))
    }

    func config(jobID: String, interval: Double = 3600) -> [String: ConfigValue] {
        let ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_interval": .double(interval), "checkpoint_dir": .string(directory.path("chk")),
            "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
        ]
        return ["job_id": .string(jobID), "work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(ft)]
    }
}
