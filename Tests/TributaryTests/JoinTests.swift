import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Joins: a regular join over everything seen, window joins (pairs and co-groups) and interval
/// joins, each checked pair by pair against a nested loop over both inputs, through
/// restores, and with the state an interval join drops once the watermark passes it.
@Suite struct JoinTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A record of either side: `id` is unique per side, `key` is what the sides join on.
    struct Row: Codable, Sendable, Hashable {
        let id: Int
        let key: Int
        let time: Duration
    }

    /// Rows whose times rise by 0–6 ms each but come up to 20 ms out of order (within the
    /// 30 ms watermark delay used below, so no row is late).
    static func rows(count: Int, keys: Int, seed: UInt64) -> [Row] {
        var random = TortureRandom(seed: seed)
        var time = 0
        return (0..<count).map { id in
            time += random.int(0...6)
            return Row(id: id, key: random.int(0...(keys - 1)), time: .milliseconds(max(0, time - random.int(0...20))))
        }
    }

    static let lefts = rows(count: 1_500, keys: 60, seed: 11)
    static let rights = rows(count: 1_200, keys: 60, seed: 12)

    static func pair(_ left: Row, _ right: Row) -> String { "\(left.id)-\(right.id)" }

    /// Both inputs with watermarks, as a user would write them.
    func inputs(_ env: LocalEnvironment, lefts: [Row] = lefts, rights: [Row] = rights) -> (DataStream<Row>, DataStream<Row>) {
        let watermarks = WatermarkStrategy.boundedOutOfOrderness(.milliseconds(30))
        return (
            env.fromSource(GeneratorSource(count: lefts.count) { lefts[$0] }).named("lefts").withTimestamps({ $0.time }, watermarks: watermarks),
            env.fromSource(GeneratorSource(count: rights.count) { rights[$0] }).named("rights").withTimestamps({ $0.time }, watermarks: watermarks)
        )
    }

    func env(_ name: String, config: [String: ConfigValue] = [:]) throws -> LocalEnvironment {
        var config = config
        config["work_dir"] = .string(directory.path("work"))
        config["batch_size"] = config["batch_size"] ?? 16
        return try LocalEnvironment(name, config: config)
    }

    // MARK: regular join

    @Test func aRegularJoinEmitsEveryMatchingPairOnceWhicheverSideArrivesFirst() async throws {
        let env = try env("regular")
        let (lefts, rights) = inputs(env)
        let sink = CollectSink<String>()
        lefts.join(rights, where: { $0.key }, equalTo: { $0.key }).apply(Self.pair).named("join").parallelism(2).sink(sink)
        #expect(try await env.submit().status == .completed)
        let expected = Self.lefts.flatMap { left in Self.rights.filter { $0.key == left.key }.map { Self.pair(left, $0) } }
        #expect(expected.count > 20_000)
        #expect(sink.values.sorted() == expected.sorted())
    }

    @Test func aThrowingJoinFailsTheRecordThatCompletedThePairAsAWhole() async throws {
        let env = try env("regular-throws", config: ["fault_tolerance": ["delay": 0, "max_attempts": 5]])
        let (lefts, rights) = inputs(env)
        let failures = FailureInjector(failOn: [Self.pair(Self.lefts[700], Self.rights.first { $0.key == Self.lefts[700].key }!)], times: 2)
        let sink = CollectSink<String>()
        lefts.join(rights, where: { $0.key }, equalTo: { $0.key })
            .apply { left, right in
                let pair = Self.pair(left, right)
                try failures.check(pair)
                return pair
            }.named("join").sink(sink)
        let result = try await env.submit()
        #expect(result.restarts.count == 2)
        #expect(failures.thrownCount == 2)
        let expected = Self.lefts.flatMap { left in Self.rights.filter { $0.key == left.key }.map { Self.pair(left, $0) } }
        #expect(sink.values.sorted() == expected.sorted(), "no pair lost or emitted twice around the failed calls")
    }

    /// Each side's branch is walked on its own: the first record is in the join (a checkpoint
    /// after it was read orders the steps) before its partner is sent, in both orders.
    @Test(.timeLimit(.minutes(3)), arguments: [Kind.regular, .interval], [true, false])
    func aPairIsEmittedWhenItsSecondRecordArrivesWhicheverSideThatIs(kind: Kind, leftFirst: Bool) async throws {
        let env = try env("second-\(kind)-\(leftFirst)", config: [
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 3600, "checkpoint_dir": .string(directory.path("chk-order"))],
        ])
        let (leftInput, leftFeed) = AsyncStream.makeStream(of: Row.self)
        let (rightInput, rightFeed) = AsyncStream.makeStream(of: Row.self)
        let firstRead = Gate()
        let watermarks = WatermarkStrategy.boundedOutOfOrderness(.seconds(1))
        let lefts = env.fromSource(AsyncSequenceSource(leftInput)).named("lefts").withTimestamps({ $0.time }, watermarks: watermarks)
            .map { row -> Row in
                firstRead.open()
                return row
            }
        let rights = env.fromSource(AsyncSequenceSource(rightInput)).named("rights").withTimestamps({ $0.time }, watermarks: watermarks)
            .map { row -> Row in
                firstRead.open()
                return row
            }
        let sink = CollectSink<String>()
        switch kind {
        case .regular:
            lefts.join(rights, where: { $0.key }, equalTo: { $0.key }).apply(Self.pair).sink(sink)
        case .window, .interval:
            lefts.keyBy { $0.key }.intervalJoin(
                rights.keyBy { $0.key }, between: .milliseconds(-10), and: .milliseconds(10), leftTime: { $0.time }, rightTime: { $0.time },
                Self.pair
            ).sink(sink)
        }
        let job = Task { try await env.submit() }
        let (left, right) = (Row(id: 1, key: 5, time: .milliseconds(100)), Row(id: 2, key: 5, time: .milliseconds(105)))
        if leftFirst { leftFeed.yield(left) } else { rightFeed.yield(right) }
        await firstRead.wait()
        try await env.triggerCheckpoint()
        #expect(sink.values.isEmpty, "no partner yet")
        if leftFirst { rightFeed.yield(right) } else { leftFeed.yield(left) }
        leftFeed.finish()
        rightFeed.finish()
        #expect(try await job.value.status == .completed)
        #expect(sink.values == ["1-2"])
    }

    // MARK: window join

    @Test(arguments: [WindowAssigner.tumbling(size: .milliseconds(100)), .sliding(size: .milliseconds(100), slide: .milliseconds(40))])
    func aWindowJoinPairsRecordsOfTheSameKeyInTheSameWindow(assigner: WindowAssigner) async throws {
        let env = try env("window-join")
        let (lefts, rights) = inputs(env)
        let sink = CollectSink<String>()
        lefts.join(rights, where: { $0.key }, equalTo: { $0.key })
            .window(assigner, leftTime: { $0.time }, rightTime: { $0.time })
            .apply(Self.pair).named("join").parallelism(2).sink(sink)
        #expect(try await env.submit().status == .completed)
        var expected: [String] = []
        for left in Self.lefts {
            for right in Self.rights where right.key == left.key {
                // A pair is emitted once per window the two share.
                let shared = Set(assigner.windows(containing: left.time)).intersection(assigner.windows(containing: right.time))
                expected += Array(repeating: Self.pair(left, right), count: shared.count)
            }
        }
        #expect(expected.count > 500)
        #expect(sink.values.sorted() == expected.sorted())
    }

    @Test func coGroupSeesEachWindowsRecordsOfBothSidesAlsoWhenOneIsEmpty() async throws {
        let env = try env("co-group")
        let (lefts, rights) = inputs(env)
        let sink = CollectSink<String>()
        let size = Duration.milliseconds(50)
        lefts.join(rights, where: { $0.key }, equalTo: { $0.key })
            .window(.tumbling(size: size), leftTime: { $0.time }, rightTime: { $0.time })
            .coGroup { key, window, lefts, rights in ["\(key)@\(window.start / size): \(lefts.map(\.id)) \(rights.map(\.id))"] }
            .named("coGroup").sink(sink)
        #expect(try await env.submit().status == .completed)
        struct Cell: Hashable { let key: Int; let window: Int }
        func cell(_ row: Row) -> Cell { Cell(key: row.key, window: Int((row.time / size).rounded(.down))) }
        let leftCells = Dictionary(grouping: Self.lefts, by: cell)
        let rightCells = Dictionary(grouping: Self.rights, by: cell)
        let cells = Set(leftCells.keys).union(rightCells.keys)
        #expect(cells.contains { leftCells[$0] == nil } && cells.contains { rightCells[$0] == nil }, "some windows have one side only")
        // Within a window each side keeps its arrival order, which is its input order.
        let expected = cells.map { cell in
            "\(cell.key)@\(Double(cell.window)): \((leftCells[cell] ?? []).map(\.id)) \((rightCells[cell] ?? []).map(\.id))"
        }
        #expect(sink.values.sorted() == expected.sorted())
    }

    // MARK: interval join

    @Test(arguments: [(Duration.milliseconds(-50), Duration.milliseconds(30)), (.zero, .zero), (.milliseconds(10), .milliseconds(80))])
    func anIntervalJoinPairsRecordsWithinTheBounds(lower: Duration, upper: Duration) async throws {
        let env = try env("interval")
        let (lefts, rights) = inputs(env)
        let sink = CollectSink<String>()
        lefts.keyBy { $0.key }.intervalJoin(
            rights.keyBy { $0.key }, between: lower, and: upper, leftTime: { $0.time }, rightTime: { $0.time }, Self.pair
        ).named("join").parallelism(2).sink(sink)
        #expect(try await env.submit().status == .completed)
        let expected = Self.lefts.flatMap { left in
            Self.rights.filter { $0.key == left.key && $0.time >= left.time + lower && $0.time <= left.time + upper }.map { Self.pair(left, $0) }
        }
        #expect(!expected.isEmpty)
        #expect(sink.values.sorted() == expected.sorted())
    }

    /// Once the watermark has passed the last time a partner could have, a record is gone: a
    /// late partner that would have matched it finds nothing (a record kept forever would have
    /// been found). The steps are ordered without timing: the pair at 1 s shows both inputs
    /// reached the join, and a checkpoint after it shows the watermarks that followed did.
    @Test(.timeLimit(.minutes(3))) func anIntervalJoinDropsARecordOnceTheWatermarkPassesItsInterval() async throws {
        let env = try env("interval-cleanup", config: [
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 3600, "checkpoint_dir": .string(directory.path("chk-cleanup"))],
        ])
        let (leftInput, leftFeed) = AsyncStream.makeStream(of: Row.self)
        let (rightInput, rightFeed) = AsyncStream.makeStream(of: Row.self)
        let watermarks = WatermarkStrategy.boundedOutOfOrderness(.milliseconds(5))
        let sink = CollectSink<String>()
        let atOneSecond = Gate()
        env.fromSource(AsyncSequenceSource(leftInput)).named("lefts").withTimestamps({ $0.time }, watermarks: watermarks).keyBy { $0.key }
            .intervalJoin(
                env.fromSource(AsyncSequenceSource(rightInput)).named("rights").withTimestamps({ $0.time }, watermarks: watermarks).keyBy { $0.key },
                between: .milliseconds(-50), and: .milliseconds(50), leftTime: { $0.time }, rightTime: { $0.time }, Self.pair
            ).named("join")
            .map { pair -> String in
                if pair == "2-2" { atOneSecond.open() }
                return pair
            }.sink(sink)
        let job = Task { try await env.submit() }
        leftFeed.yield(Row(id: 1, key: 7, time: .milliseconds(100)))  // kept until 150 ms
        rightFeed.yield(Row(id: 1, key: 7, time: .milliseconds(120)))  // a partner on time
        leftFeed.yield(Row(id: 2, key: 8, time: .seconds(1)))
        rightFeed.yield(Row(id: 2, key: 8, time: .seconds(1)))
        await atOneSecond.wait()
        try await env.triggerCheckpoint()
        rightFeed.yield(Row(id: 3, key: 7, time: .milliseconds(110)))  // late; would match left 1
        leftFeed.finish()
        rightFeed.finish()
        #expect(try await job.value.status == .completed)
        #expect(sink.values.sorted() == ["1-1", "2-2"])
    }

    // MARK: exactly-once

    enum Kind: String, CaseIterable, Sendable {
        case regular, window, interval
    }

    /// Checkpoints every millisecond and failures after the join that escalate to restores:
    /// the pairs are those of a run without failures, each once.
    @Test(arguments: Kind.allCases)
    func joinResultsAreExactlyOnceAcrossRestores(kind: Kind) async throws {
        func run(_ name: String, failures: FailureInjector<String>?) async throws -> (lines: [String], result: JobResult) {
            let env = try env("join-restore", config: [
                "job_id": .string("\(kind)-\(name)"),
                "fault_tolerance": [
                    "strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk-\(kind)-\(name)")),
                    "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10,
                ],
            ])
            let (lefts, rights) = inputs(env)
            let joined: DataStream<String>
            switch kind {
            case .regular:
                joined = lefts.join(rights, where: { $0.key }, equalTo: { $0.key }).apply(Self.pair)
            case .window:
                joined = lefts.join(rights, where: { $0.key }, equalTo: { $0.key })
                    .window(.sliding(size: .milliseconds(100), slide: .milliseconds(50)), leftTime: { $0.time }, rightTime: { $0.time })
                    .apply(Self.pair)
            case .interval:
                joined = lefts.keyBy { $0.key }.intervalJoin(
                    rights.keyBy { $0.key }, between: .milliseconds(-40), and: .milliseconds(40), leftTime: { $0.time }, rightTime: { $0.time },
                    Self.pair)
            }
            let output = directory.path("\(kind)-\(name).txt")
            joined.named("join").parallelism(2)
                .map { pair -> String in
                    try failures?.check(pair)
                    return pair
                }.named("check").supervised(.restoreCheckpoint)
                .sink(FileSink(path: output)).named("out")
            let result = try await env.submit()
            #expect(result.status == .completed)
            return (try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init).sorted(), result)
        }
        let reference = try await run("reference", failures: nil)
        let lines = reference.lines
        #expect(lines.count > 500)
        let failures = FailureInjector(failOn: [lines[10], lines[lines.count / 2], lines[lines.count - 3]])
        let faulty = try await run("faulty", failures: failures)
        #expect(failures.thrownCount == 3)
        #expect(faulty.result.recoveries.filter { $0.kind == .checkpointRestore }.count >= 1)
        #expect(faulty.lines == reference.lines)
    }

    // MARK: bad input

    @Test func anIntervalWhoseLowerBoundIsAboveItsUpperOneIsRejected() async throws {
        let env = try env("bad-interval")
        let (lefts, rights) = inputs(env)
        lefts.keyBy { $0.key }.intervalJoin(
            rights.keyBy { $0.key }, between: .seconds(1), and: .zero, leftTime: { $0.time }, rightTime: { $0.time }, Self.pair
        ).sink(CollectSink<String>())
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("intervalJoin(between: 1.0 seconds, and: 0.0 seconds)") == true)
    }

    @Test func joiningAStreamOfAnotherEnvironmentIsRejected() async throws {
        let env = try env("join-a")
        let other = try self.env("join-b")
        env.fromCollection([1, 2]).join(other.fromCollection([3]), where: { $0 }, equalTo: { $0 }).apply { $0 + $1 }.sink(CollectSink<Int>())
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.code == .foreignStream)
    }

    @Test func anEventTimeWindowJoinWithoutEventTimesIsRejected() async throws {
        let env = try env("join-no-time")
        let (lefts, rights) = inputs(env)
        lefts.join(rights, where: { $0.key }, equalTo: { $0.key }).window(.tumbling(size: .seconds(1))).apply(Self.pair).sink(CollectSink<String>())
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.message.contains("leftTime: and rightTime:") == true)
    }

    @Test func aWindowJoinGivenTheTimeOfOneSideOnlyIsRejected() async throws {
        let env = try env("join-one-time")
        let (lefts, rights) = inputs(env)
        lefts.join(rights, where: { $0.key }, equalTo: { $0.key })
            .window(.tumbling(size: .seconds(1), time: .processingTime), leftTime: { $0.time }).apply(Self.pair).sink(CollectSink<String>())
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.message.contains("leftTime: and rightTime:") == true)
    }
}
