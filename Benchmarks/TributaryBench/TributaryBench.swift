import Foundation
import Nexmark
import Tributary

// tributary-bench: throughput of W0 and W1 against baselines measured in the same process.
// Usage: swift run -c release tributary-bench [--quick] [--json] [--records N] [--runs N]

@main
enum TributaryBench {
    static let usage = """
        usage: tributary-bench [--quick] [--json] [--records N] [--runs N] [--filter TEXT]

        Measures Tributary's throughput (W0, W1) against a plain loop and hand-written AsyncStream
        pipelines doing the same work, all in this process, then operator restart recovery,
        checkpoint overhead and restore times, state encodings, and kill -9 and resume.

          --quick         1,000,000 records and 1 run per row (a smoke test)
          --json          print one JSON object instead of the table
          --records N     records per run (default 10,000,000)
          --runs N        runs per row after a warm-up (default 5)
          --filter TEXT   only rows whose workload or name contains TEXT ("W1", "checkpoint", "recovery", "table");
                          "nexmark" (or "nexmark q5") runs the Nexmark queries, which the default run leaves out
          --help          this text
        """

    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            return
        }
        let known: Set<String> = ["--quick", "--json", "--records", "--runs", "--filter", OneCore.flag]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard known.contains(argument) else {
                FileHandle.standardError.write(Data("tributary-bench: unknown argument '\(argument)'\n\n\(usage)\n".utf8))
                exit(2)
            }
            if ["--records", "--runs", "--filter", OneCore.flag].contains(argument) {
                guard index + 1 < arguments.count else {
                    FileHandle.standardError.write(Data("tributary-bench: \(argument) needs a value\n\n\(usage)\n".utf8))
                    exit(2)
                }
                if argument == "--records" || argument == "--runs", (Int(arguments[index + 1]) ?? 0) < 1 {
                    FileHandle.standardError.write(Data("tributary-bench: \(argument) takes a whole number of at least 1, not '\(arguments[index + 1])'\n".utf8))
                    exit(2)
                }
                index += 1
            }
            index += 1
        }
        func option(_ name: String) -> String? {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
            return arguments[index + 1]
        }
        let quick = arguments.contains("--quick")
        let json = arguments.contains("--json")
        let records = option("--records").flatMap(Int.init) ?? (quick ? 1_000_000 : 10_000_000)
        let runs = option("--runs").flatMap(Int.init) ?? (quick ? 1 : 5)
        /// One element per yield runs near 0.3 M records/s: measured on a tenth of the records.
        let perRecordRecords = max(100_000, records / 10)

        func mega(_ rate: Double) -> String { String(format: "%.1f M/s", rate / 1e6) }
        func mebi(_ bytes: Int?) -> String { bytes.map { String(format: "%.0f MiB", Double($0) / 1_048_576) } ?? "n/a" }
        func log(_ text: String) {
            if !json {
                print(text)
                fflush(nil)
            }
        }

        struct Row {
            let workload: String
            let implementation: String
            let sample: Sample
            let records: Int
        }
        var rows: [Row] = []
        var mismatches: [String] = []

        let filter = option("--filter")
        func measure(_ workload: String, _ implementation: String, records: Int, reference: Memo?, _ body: () async throws -> Outcome) async throws {
            if let filter, !"\(workload) \(implementation)".localizedCaseInsensitiveContains(filter) { return }
            if !json { print("  running \(workload) \(implementation) (\(records) records × \(runs) runs)...", terminator: "") }
            fflush(nil)
            let sample = try await Measure.rate(records: records, runs: runs, body)
            rows.append(Row(workload: workload, implementation: implementation, sample: sample, records: records))
            if let reference, sample.outcome != reference.value {
                mismatches.append("\(workload) \(implementation): \(sample.outcome) != plain loop \(reference.value)")
            }
            log(" \(mega(sample.median))")
        }

        if let workload = option(OneCore.flag) {
            try await OneCore.runChild(workload: workload, records: records, runs: runs)
            return
        }
        func measureOneCore(_ workload: String, reference: Memo) {
            if let filter, !"\(workload) tributary, 1 core".localizedCaseInsensitiveContains(filter) { return }
            if !json { print("  running \(workload) tributary pinned to 1 core, in a child process (\(records) records × \(runs) runs)...", terminator: "") }
            fflush(nil)
            guard let sample = OneCore.sample(workload: workload, records: records, runs: runs) else {
                mismatches.append("\(workload) tributary, 1 core: the child process did not report")
                log(" failed")
                return
            }
            rows.append(Row(workload: workload, implementation: "tributary, 1 core", sample: sample, records: records))
            if sample.outcome != reference.value { mismatches.append("\(workload) tributary, 1 core: \(sample.outcome) != plain loop \(reference.value)") }
            log(" \(mega(sample.median))")
        }

        log("Tributary benchmark: \(records) records, \(runs) runs each after a warm-up, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let w1Reference = Memo { W1.plainLoop(records: records) }
        try await measure("W1", "plain loop (Dictionary)", records: records, reference: w1Reference) { W1.plainLoop(records: records) }
        try await measure("W1", "tributary", records: records, reference: w1Reference) { try await W1.tributary(records: records) }
        // Metrics cost: the same, without per-batch metering, and sampled every 0.1 s.
        try await measure("W1", "tributary, no metrics", records: records, reference: w1Reference) {
            try await W1.tributary(records: records, metricsInterval: 0)
        }
        try await measure("W1", "tributary, metrics every 0.1 s", records: records, reference: w1Reference) {
            try await W1.tributary(records: records, metricsInterval: 0.1)
        }
        measureOneCore("W1", reference: w1Reference)
        try await measure("W1", "tributary, reduce × 2", records: records, reference: w1Reference) {
            try await W1.tributary(records: records, keyedParallelism: 2)
        }
        // The cost of moving one batch from one instance to another: W1 with batches of one
        // record, where the per-batch work (a send, a receive, a wake-up, a chain run per stage)
        // dominates, against the per-record work of W1's batches of 1,024.
        let handoffRecords = max(10_000, records / 20)
        let handoffReference = Memo { W1.plainLoop(records: handoffRecords) }
        try await measure("W1", "tributary, batches of 1", records: handoffRecords, reference: handoffReference) {
            try await W1.tributary(records: handoffRecords, batchSize: 1)
        }
        try await measure("W1", "AsyncStream, arrays of 1,024", records: records, reference: w1Reference) { await W1.asyncStreamBatched(records: records) }
        let perRecordReference = Memo { W1.plainLoop(records: perRecordRecords) }
        try await measure("W1", "AsyncStream, one per yield", records: perRecordRecords, reference: perRecordReference) {
            await W1.asyncStreamPerRecord(records: perRecordRecords)
        }
        let w0Reference = Memo { W0.plainLoop(records: records) }
        try await measure("W0", "plain loop", records: records, reference: w0Reference) { W0.plainLoop(records: records) }
        try await measure("W0", "tributary", records: records, reference: w0Reference) { try await W0.tributary(records: records) }
        measureOneCore("W0", reference: w0Reference)
        try await measure("W0", "AsyncStream, arrays of 1,024", records: records, reference: w0Reference) { await W0.asyncStreamBatched(records: records) }

        let w2Reference = Memo { W2.plainLoop(records: records) }
        try await measure("W2", "plain loop (Dictionary)", records: records, reference: w2Reference) { W2.plainLoop(records: records) }
        try await measure("W2", "tributary", records: records, reference: w2Reference) { try await W2.tributary(records: records) }
        measureOneCore("W2", reference: w2Reference)

        // Nexmark, only when asked for: each query in the engine, without and with checkpoints
        // every second, against the same query written by hand as one loop.
        var nexmarkLines: [String] = []
        if let filter, filter.lowercased().contains("nexmark") {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-bench-nexmark-\(ProcessInfo.processInfo.processIdentifier)")
            defer { try? FileManager.default.removeItem(at: work) }
            for query in Query.allCases where query.isDeterministic {
                let reference = Memo { NexmarkBench.handWritten(query, events: records) }
                try await measure("nexmark \(query)", "hand-written loop", records: records, reference: reference) {
                    NexmarkBench.handWritten(query, events: records)
                }
                try await measure("nexmark \(query)", "tributary", records: records, reference: reference) {
                    try await NexmarkBench.engine(query, events: records).0
                }
                var stateBytes: Int?
                try await measure("nexmark \(query)", "tributary, checkpoints every 1 s", records: records, reference: reference) {
                    let (outcome, bytes) = try await NexmarkBench.engine(
                        query, events: records, checkpointDirectory: work.appendingPathComponent(UUID().uuidString).path)
                    stateBytes = bytes ?? stateBytes
                    return outcome
                }
                if let stateBytes { nexmarkLines.append("\(query): last checkpoint \(String(format: "%.1f MiB", Double(stateBytes) / 1_048_576))") }
            }
            let sample = "Tests/TributaryTests/Fixtures/nexmark-events-10k.jsonl"
            if let reader = try NexmarkBench.reader(sample: sample, rounds: quick ? 10 : 100) {
                nexmarkLines.append(String(format: "JSON-lines reader alone: %.2f M events/s, %.0f MB/s (%@, parsed repeatedly)", reader.eventsPerSecond / 1e6, reader.megabytesPerSecond, sample))
            }
        }

        // Recovery latency of operator restarts (delay 0).
        var recovery: RecoveryLatency.Report?
        if filter.map({ "recovery".localizedCaseInsensitiveContains($0) || $0.localizedCaseInsensitiveContains("recovery") }) ?? true {
            let failures = quick ? 200 : 2_000
            let recoveryRecords = records
            log("  running recovery: \(failures) injected operator failures in \(recoveryRecords) records (W1 with a failing map, restart delay 0)...")
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-bench-\(ProcessInfo.processInfo.processIdentifier)")
            defer { try? FileManager.default.removeItem(at: work) }
            recovery = try await RecoveryLatency.run(records: recoveryRecords, every: recoveryRecords / failures, workDirectory: work.path)
        }

        // Checkpoints.
        var checkpointLines: [String] = []
        var checkpointJSON: [String: Any] = [:]
        if filter.map({ "checkpoint".localizedCaseInsensitiveContains($0) || $0.localizedCaseInsensitiveContains("checkpoint") }) ?? true {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-bench-chk-\(ProcessInfo.processInfo.processIdentifier)")
            defer { try? FileManager.default.removeItem(at: work) }
            func fresh(_ name: String) -> String { work.appendingPathComponent(name + "-" + UUID().uuidString).path }
            let reference = Memo { CheckpointBench.reference(records: records, keys: W1.keys) }
            log("  running W1 with checkpoints every 1 s and every 0.1 s (\(records) records × \(runs) runs)...")
            try await measure("W1+chk", "same pipeline, no checkpoints", records: records, reference: reference) {
                try await CheckpointBench.w1(records: records, keys: W1.keys, interval: 1.0, workDirectory: fresh("w1-none"), checkpoints: false).0
            }
            try await measure("W1+chk", "checkpoints every 1 s", records: records, reference: reference) {
                try await CheckpointBench.w1(records: records, keys: W1.keys, interval: 1.0, workDirectory: fresh("w1-1s")).0
            }
            try await measure("W1+chk", "checkpoints every 0.1 s", records: records, reference: reference) {
                try await CheckpointBench.w1(records: records, keys: W1.keys, interval: 0.1, workDirectory: fresh("w1-100ms")).0
            }

            func us(_ duration: Duration) -> String { String(format: "%.1f ms", duration.microseconds / 1000) }
            func percentile(_ values: [Duration], _ p: Double) -> Duration {
                guard !values.isEmpty else { return .zero }
                return values[min(values.count - 1, max(0, Int((Double(values.count) * p).rounded(.up)) - 1))]
            }
            for (keys, keyRecords, failures, interval) in [(10_000, records, quick ? 5 : 20, 0.05), (1_000_000, quick ? 2_000_000 : 5_000_000, quick ? 2 : 5, 0.2)] {
                log("  running job-level restores: \(keys) keys, \(keyRecords) records, \(failures) injected escalations, checkpoints every \(interval) s...")
                let failOn = Set((1...failures).map { keyRecords / (failures + 1) * $0 + 7 })
                let (outcome, result) = try await CheckpointBench.w1(records: keyRecords, keys: keys, interval: interval, failOn: failOn, workDirectory: fresh("restore-\(keys)"))
                let correct = outcome == CheckpointBench.reference(records: keyRecords, keys: keys)
                if !correct { mismatches.append("W1 with \(keys) keys and restores: output differs") }
                let restores = result.recoveries.filter { $0.kind == .checkpointRestore }.map(\.latency).sorted()
                let durations = result.checkpoints.map(\.duration).sorted()
                let bytes = result.checkpoints.last?.bytes ?? 0
                checkpointLines.append("\(keys) keys: checkpoint duration p50 \(us(percentile(durations, 0.5))), max \(us(percentile(durations, 1))), size \(String(format: "%.1f MiB", Double(bytes) / 1_048_576)) (\(result.checkpoints.count) checkpoints)")
                checkpointLines.append("\(keys) keys: restore (failure → first record processed again) p50 \(us(percentile(restores, 0.5))), p99 \(us(percentile(restores, 0.99))), max \(us(percentile(restores, 1))) over \(restores.count) restores; output \(correct ? "exactly-once (equals the plain loop)" : "DIFFERS")")
                // The data path's stall at a barrier (arrival, aligned → forwarded), per checkpoint
                // the longest over instances: encoding and writing are not on it.
                let stalls = result.checkpoints.map(\.barrierStall).sorted()
                checkpointLines.append("\(keys) keys: barrier stall on the data path p50 \(us(percentile(stalls, 0.5))), p99 \(us(percentile(stalls, 0.99))), max \(us(percentile(stalls, 1))) over \(stalls.count) checkpoints")
                checkpointJSON["keys_\(keys)_barrier_stall_p99_ms"] = percentile(stalls, 0.99).microseconds / 1000
                checkpointJSON["keys_\(keys)"] = [
                    "checkpoint_duration_p50_ms": percentile(durations, 0.5).microseconds / 1000, "checkpoint_bytes": bytes,
                    "restore_p50_ms": percentile(restores, 0.5).microseconds / 1000, "restore_p99_ms": percentile(restores, 0.99).microseconds / 1000,
                    "restores": restores.count, "exactly_once": correct,
                ]
            }
            log("  running kill -9 and resume of CheckpointedWordCount...")
            let resumes = try KillResumeBench.run(samples: quick ? 2 : 5, folder: work.appendingPathComponent("kill"))
            if !resumes.isEmpty {
                checkpointLines.append("kill -9 and resume: process start → first record processed, median \(us(resumes[resumes.count / 2])) over \(resumes.count) resumes")
                checkpointJSON["kill_resume_median_ms"] = resumes[resumes.count / 2].microseconds / 1000
            }
        }

        // State encodings, also on their own (`--filter encoding`).
        if filter.map({ f in ["checkpoint", "encoding"].contains { $0.localizedCaseInsensitiveContains(f) || f.localizedCaseInsensitiveContains($0) } }) ?? true {
            log("  running state encodings (1,000,000 Int pairs)...")
            let encodings = try CheckpointBench.encodings(pairs: 1_000_000)
            checkpointLines.append(String(format: "encode/decode 1,000,000 Int pairs: JSONEncoder %.0f/%.0f ms (%.1f MiB), Tributary binary Codable %.0f/%.0f ms (%.1f MiB), keyed-state columns %.1f/%.1f ms (%.1f MiB)",
                encodings.json.encode.microseconds / 1000, encodings.json.decode.microseconds / 1000, Double(encodings.json.bytes) / 1_048_576,
                encodings.binary.encode.microseconds / 1000, encodings.binary.decode.microseconds / 1000, Double(encodings.binary.bytes) / 1_048_576,
                encodings.columns.encode.microseconds / 1000, encodings.columns.decode.microseconds / 1000, Double(encodings.columns.bytes) / 1_048_576))
            checkpointLines.append(String(format: "encode/decode a keyed-state table of 1,000,000 struct values (3 fields): %.0f/%.0f ms (%.1f MiB)",
                encodings.structs.encode.microseconds / 1000, encodings.structs.decode.microseconds / 1000, Double(encodings.structs.bytes) / 1_048_576))
            checkpointJSON["struct_table_encode_ms"] = encodings.structs.encode.microseconds / 1000
            checkpointJSON["struct_table_decode_ms"] = encodings.structs.decode.microseconds / 1000
        }

        // The keyed state table on its own, against Dictionary.
        var tableLines: [String] = []
        var tableJSON: [[String: Any]] = []
        if filter.map({ "table".localizedCaseInsensitiveContains($0) || $0.localizedCaseInsensitiveContains("table") }) ?? true {
            let operations = quick ? 1_000_000 : 10_000_000
            log("  running keyed state table against Dictionary (\(operations) operations per row, best of 3)...")
            for row in StateTableBench.run(operations: operations) {
                tableLines.append(
                    String(
                        format: "%@ keys, %@: %@ %.1f M/s, Dictionary %.1f M/s (%.2f ×)",
                        row.keys.padding(toLength: 6, withPad: " ", startingAt: 0),
                        (row.count == 10_000 ? "10,000" : "1,000,000").padding(toLength: 9, withPad: " ", startingAt: 0), row.operation,
                        row.table / 1e6, row.dictionary / 1e6, row.table / row.dictionary))
                tableJSON.append([
                    "keys": row.keys, "key_count": row.count, "operation": row.operation, "table_per_second": row.table,
                    "dictionary_per_second": row.dictionary,
                ])
            }
        }

        /// Per batch, the time W1 in batches of 1 takes beyond the per-record work measured in
        /// batches of 1,024.
        func handoffNanoseconds() -> Double? {
            guard let single = rows.first(where: { $0.workload == "W1" && $0.implementation == "tributary, batches of 1" }),
                let full = rows.first(where: { $0.workload == "W1" && $0.implementation == "tributary" })
            else { return nil }
            return max(0, 1e9 / single.sample.median - 1e9 / full.sample.median)
        }

        func baseline(_ workload: String) -> Double {
            rows.first { $0.workload == workload }?.sample.median ?? 1
        }

        if json {
            let entries = rows.map { row -> [String: Any] in
                var entry: [String: Any] = [
                    "workload": row.workload, "implementation": row.implementation, "records": row.records,
                    "median_records_per_second": row.sample.median, "min_records_per_second": row.sample.spread.low,
                    "max_records_per_second": row.sample.spread.high,
                    "ratio_to_plain_loop": row.sample.median / baseline(row.workload),
                ]
                if let peak = row.sample.peakMemoryBytes { entry["peak_memory_bytes"] = peak }
                return entry
            }
            var document: [String: Any] = ["records": records, "runs": runs, "results": entries, "output_mismatches": mismatches]
            if !checkpointJSON.isEmpty { document["checkpoints"] = checkpointJSON }
            if !tableJSON.isEmpty { document["keyed_state_table"] = tableJSON }
            if let handoff = handoffNanoseconds() { document["handoff_nanoseconds_per_batch"] = handoff }
            if let recovery {
                document["operator_restart_recovery"] = [
                    "failures": recovery.failures, "recoveries": recovery.latencies.count,
                    "p50_microseconds": recovery.percentile(0.5).microseconds, "p90_microseconds": recovery.percentile(0.9).microseconds,
                    "p99_microseconds": recovery.percentile(0.99).microseconds, "max_microseconds": recovery.percentile(1).microseconds,
                    "output_exactly_once": recovery.outputCorrect,
                ]
            }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("")
            print("workload    implementation                    records/s (median)   min … max              × plain loop   peak memory")
            for row in rows {
                let name = row.implementation.padding(toLength: 32, withPad: " ", startingAt: 0)
                let median = mega(row.sample.median).padding(toLength: 20, withPad: " ", startingAt: 0)
                let spread = "\(mega(row.sample.spread.low)) … \(mega(row.sample.spread.high))".padding(toLength: 22, withPad: " ", startingAt: 0)
                let ratio = String(format: "%.2f", row.sample.median / baseline(row.workload)).padding(toLength: 14, withPad: " ", startingAt: 0)
                print("\(row.workload.padding(toLength: 12, withPad: " ", startingAt: 0))\(name)  \(median) \(spread) \(ratio) \(mebi(row.sample.peakMemoryBytes))")
            }
            let scaling = ["W0", "W1", "W2"].compactMap { workload -> String? in
                guard let two = rows.first(where: { $0.workload == workload && $0.implementation == "tributary" }),
                    let one = rows.first(where: { $0.workload == workload && $0.implementation == "tributary, 1 core" })
                else { return nil }
                return String(format: "%@ %.2f ×", workload, two.sample.median / one.sample.median)
            }
            if !scaling.isEmpty { print("\ntwo cores ÷ one core (tributary, medians): " + scaling.joined(separator: ", ")) }
            if let handoff = handoffNanoseconds() {
                print(String(format: "handoff between two instances: %.0f ns per batch (W1 in batches of 1 record against batches of 1,024, medians)", handoff))
            }
            print(mismatches.isEmpty ? "\nEvery implementation produced the plain loop's count and checksum." : "\nOUTPUT MISMATCH:\n" + mismatches.joined(separator: "\n"))
            if let recovery {
                func us(_ duration: Duration) -> String { String(format: "%.1f µs", duration.microseconds) }
                print("")
                print("operator restart recovery (throw → retried record processed, delay 0): \(recovery.latencies.count) recoveries of \(recovery.failures) failures")
                print("  p50 \(us(recovery.percentile(0.5)))   p90 \(us(recovery.percentile(0.9)))   p99 \(us(recovery.percentile(0.99)))   max \(us(recovery.percentile(1)))")
                print("  output after the failures \(recovery.outputCorrect ? "equals" : "DIFFERS FROM") the failure-free output (count and checksum)")
                if !recovery.outputCorrect { mismatches.append("recovery run output differs") }
            }
            if !checkpointLines.isEmpty {
                print("")
                print("checkpoints:")
                for line in checkpointLines { print("  " + line) }
            }
            if !nexmarkLines.isEmpty {
                print("")
                print("nexmark (\(records) generated events at 10,000,000 events/s of event time; × plain loop is against the hand-written loop):")
                for line in nexmarkLines { print("  " + line) }
            }
            if !tableLines.isEmpty {
                print("")
                print("keyed state table (updates: table[key, default: 0] += 1; lookups: table[key]), best of 3:")
                for line in tableLines { print("  " + line) }
            }
        }
        if !mismatches.isEmpty { exit(1) }

    }
}

/// A plain loop's answer, computed the first time a row needs it (a filtered run skips it).
final class Memo {
    private var cached: Outcome?
    private let make: () -> Outcome

    init(_ make: @escaping () -> Outcome) {
        self.make = make
    }

    var value: Outcome {
        if let cached { return cached }
        let value = make()
        cached = value
        return value
    }
}
