import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Windows: which windows a record is in, when they fire (watermark, processing time, end of
/// input), sessions merging, lateness, failures and restores.
@Suite struct WindowTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct Tick: Sendable, Hashable, Codable {
        let key: Int
        let time: Duration
        var value: Int = 1
        var millis: Int { Int(time / .milliseconds(1)) }
    }

    static func ms(_ value: Duration) -> Int { Int((value / .milliseconds(1)).rounded(.down)) }

    static func counts(_ stream: WindowedStream<Int, Tick>) -> DataStream<String> {
        stream.aggregate(initial: 0, add: { count, _ in count += 1 }, merge: { $0 += $1 }) { key, window, count in
            "\(key) \(ms(window.start)) \(ms(window.end)) \(count)"
        }
    }

    /// The same counts by a plain loop over the windows each record is in.
    static func expectedCounts(_ ticks: [Tick], windows: (Duration) -> [TimeWindow]) -> [String] {
        var counts: [String: Int] = [:]
        for tick in ticks {
            for window in windows(tick.time) { counts["\(tick.key) \(ms(window.start)) \(ms(window.end))", default: 0] += 1 }
        }
        return counts.map { "\($0.key) \($0.value)" }.sorted()
    }

    func env(_ name: String, batchSize: Int = 16, clock: ManualClock? = nil) throws -> LocalEnvironment {
        let config: [String: ConfigValue] = ["work_dir": .string(directory.path("work")), "batch_size": .int(batchSize)]
        return try clock.map { try LocalEnvironment(name, config: config, clock: $0) } ?? LocalEnvironment(name, config: config)
    }

    // MARK: assigning

    @Test func windowsAreAlignedToTheEpochAlsoBeforeIt() {
        let tumbling = WindowAssigner.tumbling(size: .seconds(10))
        #expect(tumbling.windows(containing: .milliseconds(12_345)) == [TimeWindow(start: .seconds(10), end: .seconds(20))])
        #expect(tumbling.windows(containing: .seconds(20)) == [TimeWindow(start: .seconds(20), end: .seconds(30))])
        #expect(tumbling.windows(containing: .milliseconds(-1)) == [TimeWindow(start: .seconds(-10), end: .zero)])
        let sliding = WindowAssigner.sliding(size: .seconds(10), slide: .seconds(2))
        #expect(sliding.windows(containing: .seconds(5)).map(\.start) == [-4, -2, 0, 2, 4].map { Duration.seconds($0) })
        #expect(sliding.windows(containing: .seconds(4)).map(\.start) == [-4, -2, 0, 2, 4].map { Duration.seconds($0) })
        let gaps = WindowAssigner.sliding(size: .seconds(1), slide: .seconds(5))
        #expect(gaps.windows(containing: .seconds(3)).isEmpty, "a record in the gap between windows is in none")
        #expect(gaps.windows(containing: .milliseconds(5_500)) == [TimeWindow(start: .seconds(5), end: .seconds(6))])
    }

    // MARK: firing

    /// Event-time tumbling windows fire as the watermark passes them, while the input is still
    /// open, with the exact count per key and window.
    @Test(.timeLimit(.minutes(3))) func tumblingWindowsFireAsTheWatermarkPassesThem() async throws {
        let ticks = (0..<1_000).map { Tick(key: $0 % 3, time: .milliseconds($0 * 7)) }
        let env = try env("tumbling")
        let source = HoldingSource(count: ticks.count, holdAt: 600, blocking: false)
        let firstWindow = Gate()
        let sink = CollectSink<String>()
        let stamped = env.fromSource(source).map { ticks[$0] }.withTimestamps({ $0.time }, watermarks: .monotonous())
        stamped.keyBy { $0.key }.window(.tumbling(size: .milliseconds(100)), eventTime: { $0.time })
            .aggregate(initial: 0, add: { count, _ in count += 1 }) { key, window, count in
                firstWindow.open()
                return "\(key) \(Self.ms(window.start)) \(Self.ms(window.end)) \(count)"
            }.sink(sink)
        let job = Task { try await env.submit() }
        await source.reached.wait()
        await firstWindow.wait()
        #expect(!sink.values.isEmpty, "windows fired before the input ended")
        source.release.open()
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == Self.expectedCounts(ticks) { WindowAssigner.tumbling(size: .milliseconds(100)).windows(containing: $0) })
    }

    @Test func slidingWindowsCountEachRecordInEveryWindowItIsIn() async throws {
        let ticks = (0..<500).map { Tick(key: $0 % 2, time: .milliseconds($0 * 13 % 2_000)) }
        let env = try env("sliding")
        let sink = CollectSink<String>()
        let assigner = WindowAssigner.sliding(size: .milliseconds(100), slide: .milliseconds(20))
        Self.counts(
            env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .boundedOutOfOrderness(.seconds(3)))
                .keyBy { $0.key }.window(assigner, eventTime: { $0.time })
        ).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == Self.expectedCounts(ticks) { assigner.windows(containing: $0) })
    }

    @Test func windowAllCountsEveryRecordOfTheStreamPerWindow() async throws {
        let ticks = (0..<700).map { Tick(key: $0 % 5, time: .milliseconds($0 * 11 % 3_000)) }
        let env = try env("window-all")
        let sink = CollectSink<String>()
        env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .boundedOutOfOrderness(.seconds(3)))
            .windowAll(.tumbling(size: .milliseconds(250)), eventTime: { $0.time })
            .aggregate(initial: 0, add: { count, _ in count += 1 }) { _, window, count in "\(Self.ms(window.start)) \(count)" }
            .parallelism(2).sink(sink)
        #expect(try await env.submit().status == .completed)
        let expected = Dictionary(grouping: ticks) { Self.ms($0.time) / 250 * 250 }.map { "\($0.key) \($0.value.count)" }
        #expect(sink.values.sorted() == expected.sorted())
    }

    /// Sessions: records at most `gap` apart are one session (also exactly `gap`), and a record
    /// between two sessions merges them.
    @Test func sessionsMergeWhenRecordsAreAtMostTheGapApart() async throws {
        let times: [(Int, Int)] = [
            (1, 0), (1, 40), (1, 90),  // 0–40–90: each within 50 → one session [0, 140)
            (1, 300), (1, 400),  // 100 apart: two sessions
            (1, 350),  // 50 from each: bridges them into [300, 450)
            (2, 0), (2, 50), (2, 101),  // 50 apart merges; 51 apart does not
        ]
        let ticks = times.map { Tick(key: $0.0, time: .milliseconds($0.1)) }
        let env = try env("sessions", batchSize: 1)
        let sink = CollectSink<String>()
        Self.counts(
            env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .boundedOutOfOrderness(.seconds(1)))
                .keyBy { $0.key }.window(.session(gap: .milliseconds(50)), eventTime: { $0.time })
        ).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == ["1 0 140 3", "1 300 450 3", "2 0 100 2", "2 101 151 1"])
    }

    /// A record after its window fired: within the allowed lateness the window fires again
    /// with it; past it, the record is dropped and counted.
    @Test(arguments: [Duration.zero, .seconds(1)])
    func aLateRecordUpdatesItsWindowWithinTheLatenessAndIsCountedAfter(lateness: Duration) async throws {
        var ticks = (0..<20).map { Tick(key: 0, time: .milliseconds($0 * 10)) }
        ticks.append(Tick(key: 0, time: .milliseconds(5)))  // window [0, 100) fired at watermark 100
        let env = try env("late", batchSize: 1)
        let sink = CollectSink<String>()
        let recorder = EventRecorder(env)
        let recording = Task { await recorder.record() }
        Self.counts(
            env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .monotonous())
                .keyBy { $0.key }.window(.tumbling(size: .milliseconds(100)), eventTime: { $0.time }).allowedLateness(lateness)
        ).named("count").sink(sink)
        let result = try await env.submit()
        await recorder.wait(for: .jobComplete)
        recording.cancel()
        #expect(result.status == .completed)
        if lateness == .zero {
            #expect(sink.values == ["0 0 100 10", "0 100 200 10"])
            #expect(result[operator: "count"]?.lateRecordsDropped == 1)
            #expect(recorder.events(.warning).contains { $0.message.contains("late records are left out") })
        } else {
            #expect(sink.values == ["0 0 100 10", "0 0 100 11", "0 100 200 10"])
            #expect(result[operator: "count"]?.lateRecordsDropped == 0)
        }
    }

    /// A late record within the lateness that opens a window of its own: the window fires
    /// once (not at once and again at its timer).
    @Test func aLateRecordOpeningANewWindowFiresItOnce() async throws {
        var ticks = (0..<20).map { Tick(key: 0, time: .milliseconds($0 * 10)) }
        ticks.append(Tick(key: 1, time: .milliseconds(50)))
        ticks.append(Tick(key: 0, time: .milliseconds(300)))  // a watermark after the late record
        let env = try env("late-new", batchSize: 1)
        let sink = CollectSink<String>()
        Self.counts(
            env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .monotonous())
                .keyBy { $0.key }.window(.tumbling(size: .milliseconds(100)), eventTime: { $0.time }).allowedLateness(.seconds(1))
        ).sink(sink)
        _ = try await env.submit()
        #expect(sink.values.sorted() == ["0 0 100 10", "0 100 200 10", "0 300 400 1", "1 0 100 1"])
    }

    /// Sessions with a lateness longer than the gap: a merge must not delete a timer another
    /// session of the key has at the same instant (here S1's end of lateness is S2's firing).
    @Test func aSessionMergeKeepsTheTimersOfTheKeysOtherSessions() async throws {
        let ticks = [0, 10_000, 1_000].map { Tick(key: 0, time: .milliseconds($0)) }
        let env = try env("session-lateness", batchSize: 1)
        let sink = CollectSink<String>()
        Self.counts(
            env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .monotonous())
                .keyBy { $0.key }.window(.session(gap: .seconds(2)), eventTime: { $0.time }).allowedLateness(.seconds(10))
        ).sink(sink)
        _ = try await env.submit()
        #expect(sink.values.sorted() == ["0 0 2000 1", "0 0 3000 2", "0 10000 12000 1"])
    }

    /// Processing-time windows follow the job clock; the input's end fires what is open.
    @Test(.timeLimit(.minutes(3))) func processingTimeWindowsFollowTheJobClock() async throws {
        let clock = ManualClock()
        let env = try env("processing", clock: clock)
        let source = HoldingSource(count: 50, holdAt: 30, blocking: false)
        let fired = Gate()
        let allThirtyAdded = Gate()
        let added = Counter()
        let sink = CollectSink<String>()
        env.fromSource(source).keyBy { $0 % 2 }.window(.tumbling(size: .seconds(60), time: .processingTime))
            .aggregate(initial: 0, add: { count, _ in
                count += 1
                if added.increment() == 30 { allThirtyAdded.open() }
            }) { key, window, count in
                fired.open()
                return "\(key) \(window.start) \(count)"
            }.sink(sink)
        let job = Task { try await env.submit() }
        await source.reached.wait()
        // The first 30 records are in the window of [0, 60 s) before the clock moves.
        await allThirtyAdded.wait()
        clock.advance(by: .seconds(60))
        await fired.wait()
        source.release.open()
        let result = try await job.value
        #expect(result.status == .completed)
        #expect(sink.values.sorted() == ["0 0.0 seconds 15", "0 60.0 seconds 10", "1 0.0 seconds 15", "1 60.0 seconds 10"])
    }

    @Test func reduceAndProcessSeeEveryRecordOfTheWindow() async throws {
        let ticks = (0..<100).map { Tick(key: $0 % 2, time: .milliseconds($0 * 10), value: $0) }
        let env = try env("reduce-process")
        let sums = CollectSink<Tick>()
        let lists = CollectSink<String>()
        let keyed = env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .monotonous()).keyBy { $0.key }
        keyed.window(.tumbling(size: .milliseconds(500)), eventTime: { $0.time })
            .reduce { Tick(key: $0.key, time: max($0.time, $1.time), value: $0.value + $1.value) }.sink(sums)
        keyed.window(.tumbling(size: .milliseconds(500)), eventTime: { $0.time })
            .process { key, window, records in
                // Any number of outputs: one per 25 records, and their values in order.
                stride(from: 0, to: records.count, by: 25).map { "\(key) \(Self.ms(window.start)) \(records[$0...].prefix(25).map(\.value))" }
            }.sink(lists)
        let result = try await env.submit()
        #expect(result.status == .completed)
        let expectedSums = [(0, 0), (1, 0), (0, 500), (1, 500)].map { key, start in
            ticks.filter { $0.key == key && Self.ms($0.time) >= start && Self.ms($0.time) < start + 500 }.reduce(0) { $0 + $1.value }
        }
        #expect(sums.values.map(\.value).sorted() == expectedSums.sorted())
        #expect(lists.values.count == 4)
        #expect(lists.values.contains("0 0 \(Array(stride(from: 0, to: 50, by: 2)))"))
        #expect(lists.values.contains("1 500 \(Array(stride(from: 51, to: 100, by: 2)))"))
    }

    // MARK: failures and restores

    /// A window whose result throws is retried after a restart, and emitted once.
    @Test func aWindowWhoseResultThrowsIsRetriedAndEmittedOnce() async throws {
        let ticks = (0..<300).map { Tick(key: $0 % 3, time: .milliseconds($0 * 10)) }
        let env = try env("throwing-result")
        let failures = FailureInjector(failOn: ["1 1000", "2 2900"])
        let sink = CollectSink<String>()
        env.fromCollection(ticks).withTimestamps({ $0.time }, watermarks: .monotonous())
            .keyBy { $0.key }.window(.tumbling(size: .milliseconds(100)), eventTime: { $0.time })
            .aggregate(initial: 0, add: { count, _ in count += 1 }) { key, window, count in
                try failures.check("\(key) \(Self.ms(window.start))")
                return "\(key) \(Self.ms(window.start)) \(Self.ms(window.end)) \(count)"
            }.supervised(.restart(.fixed(delay: .zero, maxAttempts: 5)))
            .sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(result.restarts.count == 2)
        #expect(sink.values.sorted() == Self.expectedCounts(ticks) { WindowAssigner.tumbling(size: .milliseconds(100)).windows(containing: $0) })
    }

    /// Window state, timers and watermarks through checkpoint restores, with late records
    /// (every 7th record is 300 ms behind, past the 20 ms delay): each window's count is
    /// emitted once, and the same records are late as in a run without failures — the
    /// restored watermark judges the replayed records as the first run did.
    @Test func windowResultsAreExactlyOnceAcrossRestores() async throws {
        let ticks = (0..<4_000).map { i in
            Tick(key: i % 11, time: .milliseconds(max(0, i * 3 + (i % 4) * 5 - (i % 7 == 0 ? 300 : 0))))
        }
        let assigner = WindowAssigner.sliding(size: .milliseconds(200), slide: .milliseconds(50))
        func run(_ name: String, failures: FailureInjector<String>?) async throws -> (lines: [String], result: JobResult) {
            let ft: [String: ConfigValue] = [
                "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk-\(name)")),
                "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
            ]
            let env = try LocalEnvironment(
                "window-restore",
                config: ["job_id": .string(name), "work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(ft)])
            let output = directory.path("\(name).txt")
            Self.counts(
                env.fromSource(GeneratorSource(count: ticks.count) { ticks[$0] }).named("ticks")
                    .withTimestamps({ $0.time }, watermarks: .boundedOutOfOrderness(.milliseconds(20)))
                    .keyBy { $0.key }.window(assigner, eventTime: { $0.time })
            ).named("count").parallelism(2)
                .map { line -> String in
                    try failures?.check(line)
                    return line
                }.named("check").supervised(.restoreCheckpoint)
                .sink(FileSink(path: output)).named("out")
            let result = try await env.submit()
            #expect(result.status == .completed)
            return (try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init).sorted(), result)
        }
        let reference = try await run("reference", failures: nil)
        #expect((reference.result[operator: "count"]?.lateRecordsDropped ?? 0) > 100, "the input has late records")
        let lines = reference.lines
        let failures = FailureInjector(failOn: [lines[10], lines[lines.count / 3], lines[lines.count - 3]])
        let faulty = try await run("faulty", failures: failures)
        #expect(faulty.result.recoveries.filter { $0.kind == .checkpointRestore }.count >= 1)
        #expect(failures.thrownCount == 3)
        #expect(faulty.lines == reference.lines)
    }

    // MARK: bad input

    @Test(arguments: [
        (WindowAssigner.tumbling(size: .zero), true, "size"),
        (.sliding(size: .seconds(1), slide: .seconds(-1)), true, "slide"),
        (.session(gap: .zero), true, "gap"),
        (.tumbling(size: .seconds(1)), false, "eventTime:"),
    ])
    func aWindowThatCannotRunFailsSubmit(assigner: WindowAssigner, withTime: Bool, mentions: String) async throws {
        let env = try env("bad-window")
        let keyed = env.fromCollection([Tick(key: 0, time: .zero)]).keyBy { $0.key }
        var time: (@Sendable (Tick) -> Duration)?
        if withTime { time = { tick in tick.time } }
        Self.counts(keyed.window(assigner, eventTime: time)).sink(CollectSink<String>())
        await #expect {
            try await env.submit()
        } throws: { error in
            (error as? PipelineError)?.code == .invalidArgument && "\(error)".contains(mentions)
        }
    }

    @Test func sessionsWithoutMergeAndNegativeLatenessFailSubmit() async throws {
        let env = try env("bad-session")
        let keyed = env.fromCollection([Tick(key: 0, time: .zero)]).keyBy { $0.key }
        keyed.window(.session(gap: .seconds(1)), eventTime: { $0.time })
            .aggregate(initial: 0, add: { $0 += $1.value }) { _, _, sum in sum }.sink(CollectSink<Int>())
        await #expect(throws: PipelineError.self) { try await env.submit() }
        let other = try self.env("bad-lateness")
        Self.counts(
            other.fromCollection([Tick(key: 0, time: .zero)]).keyBy { $0.key }
                .window(.tumbling(size: .seconds(1)), eventTime: { $0.time }).allowedLateness(.seconds(-1))
        ).sink(CollectSink<String>())
        await #expect(throws: PipelineError.self) { try await other.submit() }
    }
}
