import Foundation
import Synchronization
import Testing
@testable import Tributary

@Suite struct RecoveryBenchmarkTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// The benchmarked pipeline: a running count per key (10 keys), as "key:count".
    static func countPerKey(_ env: LocalEnvironment, records: Int, into sink: some Sink<String>) {
        env.fromSource(GeneratorSource(count: records) { $0 })
            .keyBy { $0 % 10 }
            .mapWithState(initial: 0) { (count: inout Int, value: Int) in
                count += 1
                return "\(value % 10):\(count)"
            }.named("count")
            .sink(sink)
    }

    @Test func itReportsAsManyRecoveriesAsInjectedFailuresAndConfirmsExactlyOnce() async throws {
        let benchmark = RecoveryBenchmark(
            name: "counts", faultTolerance: ["delay": 0, "max_attempts": 100],
            faults: [FaultInjection(operatorName: "count", kind: .throw, trigger: .everyRecords(1_000))], runs: 2,
            workDirectory: directory.path("bench")
        ) { env in
            let sink = CollectSink<String>()
            Self.countPerKey(env, records: 10_000, into: sink)
            return { sink.values }
        }
        let report = try await benchmark.run()
        #expect(report.runs.count == 2)
        #expect(report.runs.allSatisfy { $0.result.recoveries.count == 10 }, "one recovery per injected failure")
        #expect(report.recoveries.count == 20)
        #expect(report.exactlyOnce)
        #expect(report.latency(.operatorRestart, percentile: 0.99) != nil)
        #expect(report.description.contains("exactly-once"))

        // The charts of the user's pipeline: the latency of its 20 restarts, and the first
        // run's failures marked on its timeline.
        #expect(report.runs[0].timeline.failures.count == 10)
        #expect(report.runs[0].timeline.failures.allSatisfy { $0 >= 0 })
        let charts = try report.writeCharts(to: URL(fileURLWithPath: directory.path("charts")))
        #expect(charts.map(\.lastPathComponent) == ["recovery-latency.svg", "throughput.svg"])
        let latency = try String(contentsOf: charts[0], encoding: .utf8)
        #expect(latency.hasPrefix("<svg") && latency.contains("restart &lt;"), "bars per kind of recovery, labels escaped")
        #expect(latency.contains("20 recoveries"), "the title counts what the table counts")
        let throughput = try String(contentsOf: charts[1], encoding: .utf8)
        #expect(throughput.components(separatedBy: "stroke='#d04a4a'").count - 1 == 10, "one red line per failure")
    }

    /// A sink that writes at once and ignores commits: after a checkpoint restore, replayed
    /// records appear twice.
    final class NonTransactionalSink: Sink, Sendable {
        private let lines = Mutex<[String]>([])
        var values: [String] { lines.withLock { $0 } }
        func makeWriter(_ context: SinkContext) throws -> Writer { Writer(sink: self) }
        struct Writer: SinkWriter {
            let sink: NonTransactionalSink
            mutating func write(_ records: [String]) throws { sink.lines.withLock { $0.append(contentsOf: records) } }
        }
    }

    @Test func itFlagsAPipelineWhoseOutputIsNotExactlyOnce() async throws {
        let benchmark = RecoveryBenchmark(
            name: "leaky",
            // No checkpoint completes before the failure, so the restore replays from the start:
            // every record the sink already wrote arrives again.
            faultTolerance: ["strategy": "checkpoint", "checkpoint_interval": 3600, "delay": 0, "max_attempts": 0, "max_recovery_attempts": 10],
            faults: [FaultInjection(operatorName: "count", kind: .throw, trigger: .atRecords([15_000]))], runs: 1,
            workDirectory: directory.path("bench")
        ) { env in
            let sink = NonTransactionalSink()
            Self.countPerKey(env, records: 20_000, into: sink)
            return { sink.values }
        }
        let report = try await benchmark.run()
        #expect(report.recoveries.filter { $0.kind == .checkpointRestore }.count == 1)
        #expect(!report.exactlyOnce, "records replayed after the restore reached the sink twice")
        #expect(report.runs[0].differences.first?.contains("duplicate") == true)
        #expect(report.description.contains("NOT exactly-once"))
    }

    /// A changed value reads as changed, not as one duplicate and one missing record;
    /// duplicates, missing and unexpected records and a changed order are told apart.
    @Test func theComparisonTellsChangedMissingDuplicateAndUnexpectedRecordsApart() {
        let expected = ["sensor 1: 10", "sensor 2: 20", "sensor 3: 30", "sensor 4: 40"]
        let changed = OutputComparison(expected: expected, actual: ["sensor 1: 10", "sensor 2: 21", "sensor 3: 30", "sensor 4: 40"], ordered: false)
        #expect(changed.changed == [.init(expected: "sensor 2: 20", actual: "sensor 2: 21")])
        #expect(changed.missing.isEmpty && changed.duplicates.isEmpty && changed.unexpected.isEmpty)
        #expect(changed.summary == ["1 changed (e.g. 'sensor 2: 20' became 'sensor 2: 21')"])

        let replayed = OutputComparison(expected: expected, actual: ["sensor 1: 10", "sensor 1: 10", "sensor 2: 20", "sensor 4: 40", "noise"], ordered: false)
        #expect(replayed.duplicates == ["sensor 1: 10"])
        #expect(replayed.missing == ["sensor 3: 30"] && replayed.unexpected == ["noise"], "nothing in common: not a change")
        #expect(!replayed.isExact)

        let lost = OutputComparison(expected: expected, actual: ["sensor 1: 10", "sensor 4: 40", "zzz"], ordered: false)
        #expect(lost.missing == ["sensor 2: 20", "sensor 3: 30"], "nothing shares a beginning with 'zzz'")
        #expect(lost.unexpected == ["zzz"])

        let reordered = OutputComparison(expected: expected, actual: expected.reversed(), ordered: true)
        #expect(reordered.firstDifference == 0)
        #expect(reordered.summary == ["the same records in another order, first at record 0"])
        #expect(OutputComparison(expected: expected, actual: expected, ordered: true).isExact)
    }
}
