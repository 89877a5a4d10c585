import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Event time: `withTimestamps` makes watermarks that travel with the records, combine as the
/// minimum over inputs, skip idle inputs, survive a restore, and fire event-time timers as
/// they pass them.
@Suite struct WatermarkTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct Tick: Sendable, Hashable, Codable {
        let key: Int
        let time: Duration
        var millis: Int { Int(time / .milliseconds(1)) }
    }

    static func ticks(_ count: Int, every step: Int = 10) -> [Tick] {
        (0..<count).map { Tick(key: $0 % 2, time: .milliseconds($0 * step)) }
    }

    static func millis(_ time: Duration?) -> Int { time.map { Int($0 / .milliseconds(1)) } ?? -1 }

    /// Each record sets an event-time timer `after` its own time.
    static func timed(_ stream: DataStream<Tick>, after: Duration, onFire: (@Sendable () -> Void)? = nil) -> DataStream<String> {
        stream.keyBy { $0.key }.process(initial: 0) { (context: inout KeyedProcessContext<Int, Int, String>, tick: Tick) in
            context.emit("r\(tick.millis)")
            context.timers.register(at: tick.time + after)
        } onTimer: { context, timer in
            context.emit("t\(millis(timer.time)) at \(millis(context.currentWatermark))")
            onFire?()
        }.named("timed")
    }

    // MARK: the combined watermark

    @Test func oneLaneAdvancesAndNeverGoesBack() {
        var tracker = WatermarkTracker(laneCount: 1)
        #expect(tracker.watermark(.seconds(5), lane: 0) == .advance(.seconds(5)))
        #expect(tracker.watermark(.seconds(3), lane: 0) == nil)
        #expect(tracker.watermark(.seconds(5), lane: 0) == nil)
        #expect(tracker.watermark(.seconds(7), lane: 0) == .advance(.seconds(7)))
    }

    @Test func theWatermarkIsTheMinimumOverLanesAndWaitsForEveryLane() {
        var tracker = WatermarkTracker(laneCount: 3)
        #expect(tracker.watermark(.seconds(10), lane: 0) == nil, "lanes 1 and 2 have said nothing yet")
        #expect(tracker.watermark(.seconds(4), lane: 1) == nil)
        #expect(tracker.watermark(.seconds(6), lane: 2) == .advance(.seconds(4)))
        #expect(tracker.watermark(.seconds(9), lane: 1) == .advance(.seconds(6)))
        #expect(tracker.watermark(.seconds(20), lane: 2) == .advance(.seconds(9)))
        #expect(tracker.ended(lane: 1) == .advance(.seconds(10)), "an ended lane holds nothing back")
    }

    @Test func anIdleLaneIsLeftOutAndDoesNotPullTheWatermarkBackWhenItWakes() {
        var tracker = WatermarkTracker(laneCount: 2)
        #expect(tracker.watermark(.seconds(10), lane: 0) == nil)
        #expect(tracker.idle(lane: 1) == .advance(.seconds(10)))
        #expect(tracker.watermark(.seconds(12), lane: 0) == .advance(.seconds(12)))
        // Lane 1 wakes behind the watermark: it holds it until it catches up.
        #expect(tracker.watermark(.seconds(3), lane: 1) == nil)
        #expect(tracker.current == .seconds(12))
        #expect(tracker.watermark(.seconds(20), lane: 0) == nil)
        #expect(tracker.watermark(.seconds(15), lane: 1) == .advance(.seconds(15)))
    }

    @Test func whenEveryOpenLaneIsIdleTheWatermarkGoesAsFarAsAnyLaneGot() {
        var tracker = WatermarkTracker(laneCount: 3)
        #expect(tracker.watermark(.seconds(4), lane: 0) == nil)
        #expect(tracker.watermark(.seconds(9), lane: 1) == nil)
        #expect(tracker.ended(lane: 1) == nil, "lane 2 has said nothing yet")
        #expect(tracker.idle(lane: 2) == .advance(.seconds(4)))
        #expect(tracker.idle(lane: 0) == .advanceThenIdle(.seconds(9)), "the ended lane got to 9; now every open lane is idle")
        #expect(tracker.isIdle)
        #expect(tracker.watermark(.seconds(5), lane: 0) == nil, "lane 0 woke behind the watermark")
    }

    @Test func everyLaneIdleMakesTheInstanceIdleOnce() {
        var tracker = WatermarkTracker(laneCount: 2)
        #expect(tracker.idle(lane: 0) == nil)
        #expect(tracker.idle(lane: 1) == .idle)
        #expect(tracker.idle(lane: 0) == nil)
        tracker.records(lane: 0)
        #expect(!tracker.isIdle)
        #expect(tracker.watermark(.seconds(1), lane: 0) == .advance(.seconds(1)))
    }

    // MARK: timers fire as the watermark passes them

    /// One input, batches of 10: after each batch the watermark (monotonous: just before the
    /// batch's last time) fires the timers it passed, in time order, before the next batch's
    /// records.
    @Test func eventTimeTimersFireAsTheWatermarkPassesThemInOrderWithTheRecords() async throws {
        let ticks = Self.ticks(200)
        let env = try LocalEnvironment("watermarks", config: ["work_dir": .string(directory.path("work")), "batch_size": 10])
        let sink = CollectSink<String>()
        Self.timed(env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .monotonous()), after: .milliseconds(95)).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)

        var expected: [String] = []
        var pending: [Int] = []
        var watermark = -1
        for batch in stride(from: 0, to: ticks.count, by: 10) {
            for tick in ticks[batch..<batch + 10] {
                expected.append("r\(tick.millis)")
                pending.append(tick.millis + 95)
            }
            // The latest time minus 1 ns: timers before the latest time fire, printed as
            // whole milliseconds rounded down.
            let latest = ticks[batch + 9].millis
            watermark = latest - 1
            for time in pending.sorted() where time < latest { expected.append("t\(time) at \(watermark)") }
            pending.removeAll { $0 < latest }
        }
        for time in pending.sorted() { expected.append("t\(time) at \(watermark)") }
        #expect(sink.values == expected)
    }

    /// Two inputs at their own pace: a timer fires only once both have passed it, so no record
    /// of either input older than the watermark a timer fired at arrives after it.
    @Test func withTwoInputsTheWatermarkWaitsForTheSlowerOne() async throws {
        let env = try LocalEnvironment("two-inputs", config: ["work_dir": .string(directory.path("work")), "batch_size": 8])
        let sink = CollectSink<String>()
        let fast = env.fromCollection(Self.ticks(3_000, every: 10)).named("fast").withTimestamps({ $0.time }, watermarks: .monotonous())
        let slow = env.fromSource(GeneratorSource(count: 300) { Tick(key: $0 % 2, time: .milliseconds($0 * 100 + 5)) }).named("slow")
            .map { tick -> Tick in
                // Work the fast input does not have, so the inputs drift apart.
                var spin = 0
                for i in 0..<2_000 { spin &+= i }
                return spin < 0 ? Tick(key: 0, time: .zero) : tick
            }
            .withTimestamps({ $0.time }, watermarks: .monotonous())
        Self.timed(fast.union(slow), after: .milliseconds(1)).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        var firedAt = -1
        var late: [String] = []
        for line in sink.values {
            if line.hasPrefix("t") {
                firedAt = max(firedAt, Int(line.split(separator: " ").last!)!)
            } else if Int(line.dropFirst())! < firedAt {
                late.append("\(line) after a timer fired at watermark \(firedAt)")
            }
        }
        #expect(late.isEmpty, "\(late.count) records older than the watermark, first: \(late.first ?? "")")
        #expect(sink.values.filter { $0.hasPrefix("t") }.count == 3_300)
    }

    /// An input that delivers nothing would hold the watermark back forever; after its idle
    /// timeout (job clock) it no longer does, and timers fire while it is still open.
    @Test(.timeLimit(.minutes(3))) func anIdleInputStopsHoldingTheWatermarkBack() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment("idle", config: ["work_dir": .string(directory.path("work")), "batch_size": 10], clock: clock)
        let quiet = HoldingSource(count: 1, holdAt: 0, blocking: false)
        let fired = Gate()
        let sink = CollectSink<String>()
        let busy = env.fromCollection(Self.ticks(100)).named("busy").withTimestamps({ $0.time }, watermarks: .monotonous())
        let idle = env.fromSource(quiet).named("quiet").map { _ in Tick(key: 0, time: .seconds(100)) }
            .withTimestamps({ $0.time }, watermarks: .monotonous(idleTimeout: .seconds(5)))
        Self.timed(busy.union(idle), after: .milliseconds(5), onFire: { fired.open() }).sink(sink)
        let job = Task { try await env.submit() }
        await quiet.reached.wait()
        clock.advance(by: .seconds(5))
        await fired.wait()
        quiet.release.open()
        let result = try await job.value
        #expect(result.status == .completed)
        let values = sink.values
        let firstTimer = try #require(values.firstIndex { $0.hasPrefix("t") })
        let quietRecord = try #require(values.firstIndex(of: "r100000"))
        #expect(firstTimer < quietRecord, "timers fired while the quiet input was still open")
        #expect(values.filter { $0.hasPrefix("t") }.count == 101)
    }

    /// The same with a source that waits in its read (an async sequence with nothing to give):
    /// its loop is woken when the idle timeout runs out on the job clock, not only when a
    /// record comes. A checkpoint shows both sources' loops are running before the clock moves.
    @Test(.timeLimit(.minutes(3))) func anInputWaitingInItsReadBecomesIdleOnTheJobClock() async throws {
        let clock = ManualClock()
        let env = try LocalEnvironment(
            "idle-async",
            config: [
                "work_dir": .string(directory.path("work")), "batch_size": 10,
                "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 3600, "checkpoint_dir": .string(directory.path("chk-idle"))],
            ], clock: clock)
        let (busyInput, busyFeed) = AsyncStream.makeStream(of: Tick.self)
        let (quietInput, quietFeed) = AsyncStream.makeStream(of: Tick.self)
        let running = Gate()
        let fired = CancellableGate()
        let sink = CollectSink<String>()
        let busy = env.fromSource(AsyncSequenceSource(busyInput)).named("busy").withTimestamps({ $0.time }, watermarks: .monotonous())
            .map { tick -> Tick in
                running.open()
                return tick
            }
        let quiet = env.fromSource(AsyncSequenceSource(quietInput)).named("quiet")
            .withTimestamps({ $0.time }, watermarks: .monotonous(idleTimeout: .seconds(5)))
        Self.timed(busy.union(quiet), after: .milliseconds(5), onFire: { fired.open() }).sink(sink)
        let job = Task { try await env.submit() }
        for tick in Self.ticks(100) { busyFeed.yield(tick) }
        await running.wait()
        try await env.triggerCheckpoint()
        #expect(!sink.values.contains { $0.hasPrefix("t") }, "the quiet input holds the watermark back")
        clock.advance(by: .seconds(5))
        try await fired.wait()
        quietFeed.yield(Tick(key: 0, time: .seconds(100)))
        quietFeed.finish()
        busyFeed.finish()
        let result = try await job.value
        #expect(result.status == .completed)
        let values = sink.values
        let firstTimer = try #require(values.firstIndex { $0.hasPrefix("t") })
        let quietRecord = try #require(values.firstIndex(of: "r100000"))
        #expect(firstTimer < quietRecord, "timers fired while the quiet input was still open")
        #expect(values.filter { $0.hasPrefix("t") }.count == 101)
    }

    // MARK: checkpoints

    /// Watermarks, timers and the largest event time seen go through checkpoint restores:
    /// every record's line and every timer's line is in the output once.
    @Test func timersFireExactlyOnceAcrossRestoresWithWatermarks() async throws {
        let ticks = (0..<3_000).map { Tick(key: $0 % 5, time: .milliseconds($0 * 7 + ($0 % 3) * 4)) }
        let ft: [String: ConfigValue] = [
            "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk")),
            "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
        ]
        let env = try LocalEnvironment(
            "watermark-restore",
            config: ["job_id": "restore", "work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(ft)])
        // Records 1000 and 2991, and the timer of record 2000.
        let failures = FailureInjector(failOn: ["r7004", "t14038", "r20937"])
        let output = directory.path("out.txt")
        let stamped = env.fromSource(GeneratorSource(count: ticks.count) { ticks[$0] }).named("ticks")
            .withTimestamps({ $0.time }, watermarks: .boundedOutOfOrderness(.milliseconds(10)))
        Self.timed(stamped, after: .milliseconds(30)).parallelism(2)
            .map { line -> String in
                let plain = line.split(separator: " ").first.map(String.init) ?? line
                try failures.check(plain)
                return plain
            }.named("check").supervised(.restoreCheckpoint)
            .sink(FileSink(path: output)).named("out")
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(result.recoveries.filter { $0.kind == .checkpointRestore }.count >= 1)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        let expected = ticks.map { "r\($0.millis)" } + ticks.map { "t\($0.millis + 30)" }
        #expect(lines.sorted() == expected.sorted())
        #expect(failures.thrownCount == 3)
    }

    @Test func aNegativeDelayOrTimeoutFailsSubmit() async throws {
        for strategy in [WatermarkStrategy.boundedOutOfOrderness(.seconds(-1)), .monotonous(idleTimeout: .zero)] {
            let env = try LocalEnvironment("bad-watermarks")
            env.fromCollection(Self.ticks(3)).withTimestamps({ $0.time }, watermarks: strategy).sink(CollectSink<Tick>())
            await #expect {
                try await env.submit()
            } throws: { error in
                (error as? PipelineError)?.code == .invalidArgument && "\(error)".contains("withTimestamps")
            }
        }
    }
}
