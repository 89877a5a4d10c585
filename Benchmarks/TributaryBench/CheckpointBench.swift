import Foundation
import Synchronization
import Tributary

/// Checkpoint costs: W1's throughput with checkpoints, checkpoint duration and size, the
/// latency of a job-level restore, and the state encodings against JSONEncoder.
enum CheckpointBench {
    static func config(workDirectory: String, interval: Double, checkpoints: Bool = true) -> [String: ConfigValue] {
        let ft: [String: ConfigValue] = [
            "strategy": checkpoints ? "checkpoint" : "restart", "checkpoint_interval": .double(interval),
            "checkpoint_dir": .string(workDirectory + "/checkpoints"), "max_recovery_attempts": 1000,
            "restart_strategy": "fixed", "delay": 0, "max_attempts": 0,
        ]
        return ["work_dir": .string(workDirectory + "/jobs"), "fault_tolerance": .object(ft)]
    }

    /// W1 under `strategy: "checkpoint"` with `keys` keys; fails (and restores) on each record in
    /// `failOn`. Returns the outcome and the job's result.
    static func w1(
        records: Int, keys: Int, interval: Double, failOn: Set<Int> = [], workDirectory: String, checkpoints: Bool = true
    ) async throws -> (Outcome, JobResult) {
        let env = try LocalEnvironment("w1-checkpoint", config: config(workDirectory: workDirectory, interval: interval, checkpoints: checkpoints))
        let failed = Mutex<Set<Int>>([])
        let sink = CheckpointedCountingSink()
        let failing = !failOn.isEmpty
        env.fromSource(GeneratorSource(count: records) { i in Event(key: i % keys, value: i) })
            .map { event -> Event in
                if failing, failOn.contains(event.value), failed.withLock({ $0.insert(event.value).inserted }) {
                    throw RecoveryLatency.InjectedCrash(record: event.value)
                }
                return Event(key: event.key, value: event.value &* 2)
            }
            .named("map")
            .keyBy { $0.key }
            // The running sum as an Int per key: keyed state of fixed-width numbers, which
            // checkpoints as raw columns.
            .mapWithState(initial: 0) { (sum: inout Int, event: Event) in
                sum &+= event.value
                return Event(key: event.key, value: sum)
            }
            .sink(sink)
        let result = try await env.submit()
        return (sink.committed, result)
    }

    /// The plain loop's answer for W1 with `keys` keys.
    static func reference(records: Int, keys: Int) -> Outcome {
        var sums = [Int](repeating: 0, count: keys)
        var outcome = Outcome(count: 0, checksum: 0)
        for i in 0..<records {
            sums[i % keys] &+= i &* 2
            outcome.count += 1
            outcome.checksum &+= sums[i % keys]
        }
        return outcome
    }

    struct EncodingTimes {
        let json: (encode: Duration, decode: Duration, bytes: Int)
        let binary: (encode: Duration, decode: Duration, bytes: Int)
        let columns: (encode: Duration, decode: Duration, bytes: Int)
        /// A keyed-state table of struct values (three fields), as keyed process functions keep.
        let structs: (encode: Duration, decode: Duration, bytes: Int)
    }

    struct LostKeys: Error, CustomStringConvertible {
        let restored: Int
        let expected: Int
        var description: String { "the struct table restored \(restored) of \(expected) keys" }
    }

    struct Totals: Codable, Sendable {
        var count: Int
        var sum: Int64
        var last: Double
    }

    /// 1,000,000 Int pairs through JSONEncoder, Tributary's Codable binary encoding, and the
    /// keyed-state columns.
    static func encodings(pairs: Int) throws -> EncodingTimes {
        var table: [Int: Int] = [:]
        table.reserveCapacity(pairs)
        for key in 0..<pairs { table[key] = key &* 31 }
        struct Columns: Codable { var keys: [Int]; var values: [Int] }
        let columns = Columns(keys: Array(table.keys), values: Array(table.values))
        func time<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
            let start = ContinuousClock.now
            let value = try body()
            return (value, ContinuousClock.now - start)
        }
        let (json, jsonEncode) = try time { try JSONEncoder().encode(columns) }
        let (_, jsonDecode) = try time { try JSONDecoder().decode(Columns.self, from: json) }
        let (binary, binaryEncode) = try time { try StateCoder.encode(columns) }
        let (_, binaryDecode) = try time { try StateCoder.decode(Columns.self, from: binary) }
        // The runtime's own path: the instance's table to bytes, and bytes into a restored table.
        var keyed = KeyedStateTable<Int, Int>(minimumCapacity: pairs)
        for key in 0..<pairs { keyed[key] = key &* 31 }
        let (raw, rawEncode) = try time { try KeyedStateCodec.encode(keyed) }
        let (_, rawDecode) = try time { () throws -> Int in
            var restored = KeyedStateTable<Int, Int>()
            try KeyedStateCodec.decode(raw, into: &restored) { _ in true }
            return restored.count
        }
        var totals = KeyedStateTable<Int, Totals>(minimumCapacity: pairs)
        for key in 0..<pairs { totals[key] = Totals(count: key % 1000, sum: Int64(key) &* 7, last: Double(key) / 3) }
        let (structBytes, structEncode) = try time { try KeyedStateCodec.encode(totals) }
        let (restoredCount, structDecode) = try time { () throws -> Int in
            var restored = KeyedStateTable<Int, Totals>()
            try KeyedStateCodec.decode(structBytes, into: &restored) { _ in true }
            return restored.count
        }
        guard restoredCount == pairs else { throw LostKeys(restored: restoredCount, expected: pairs) }
        return EncodingTimes(
            json: (jsonEncode, jsonDecode, json.count), binary: (binaryEncode, binaryDecode, binary.count),
            columns: (rawEncode, rawDecode, raw.count), structs: (structEncode, structDecode, structBytes.count))
    }
}

/// Counts committed records: with checkpoints only what completed checkpoints committed,
/// without them every write (the runtime then never calls preCommit or commit).
final class CheckpointedCountingSink: Sink, Sendable {
    private let state = Mutex((staged: [Int: Outcome](), sealed: [(epoch: Int64, outcome: Outcome)](), committed: Outcome(count: 0, checksum: 0)))

    var committed: Outcome { state.withLock { $0.committed } }

    func makeWriter(_ context: SinkContext) throws -> Writer {
        Writer(sink: self, instance: context.instance, isFinal: !context.deliversCommits)
    }

    func commit(upTo epoch: Int64, context: SinkContext) throws {
        state.withLock { state in
            for part in state.sealed where part.epoch <= epoch {
                state.committed.count += part.outcome.count
                state.committed.checksum &+= part.outcome.checksum
            }
            state.sealed.removeAll { $0.epoch <= epoch }
        }
    }

    func recover(lastCompleted epoch: Int64?, context: SinkContext) throws {
        if let epoch { try commit(upTo: epoch, context: context) }
        state.withLock { state in
            state.staged = [:]
            state.sealed.removeAll { $0.epoch > (epoch ?? .min) }
        }
    }

    struct Writer: SinkWriter {
        let sink: CheckpointedCountingSink
        let instance: Int
        let isFinal: Bool

        mutating func write(_ records: [Event]) throws {
            var checksum = 0
            for record in records { checksum &+= record.value }
            let instance = self.instance
            if isFinal {
                sink.state.withLock {
                    $0.committed.count += records.count
                    $0.committed.checksum &+= checksum
                }
                return
            }
            sink.state.withLock {
                $0.staged[instance, default: Outcome(count: 0, checksum: 0)].count += records.count
                $0.staged[instance, default: Outcome(count: 0, checksum: 0)].checksum &+= checksum
            }
        }

        mutating func preCommit(epoch: Int64) throws {
            let instance = self.instance
            sink.state.withLock { state in
                let outcome = state.staged.removeValue(forKey: instance) ?? Outcome(count: 0, checksum: 0)
                state.sealed.append((epoch, outcome))
            }
        }
    }
}

/// Kill-and-resume: starts `CheckpointedWordCount`, kills it with SIGKILL after its second
/// checkpoint, starts it again and measures from the launch to its first record processed.
enum KillResumeBench {
    static func run(samples: Int, folder: URL) throws -> [Duration] {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("CheckpointedWordCount")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else { return [] }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let input = folder.appendingPathComponent("in.txt")
        let text = (0..<200_000).map { "w\($0 % 997) w\($0 % 13)" }.joined(separator: "\n") + "\n"
        try text.write(to: input, atomically: true, encoding: .utf8)
        var latencies: [Duration] = []
        for sample in 0..<samples {
            let arguments = ["in.txt", "out.txt", "--job-id", "bench-\(sample)", "--state-dir", "state", "--checkpoint-interval", "0.02", "--work", "2000"]
            let first = try launch(executable, arguments, in: folder)
            _ = readLines(first) { $0.hasPrefix("checkpoint 2") }
            first.send(SIGKILL)
            _ = first.waitForExitBlocking()
            let start = ContinuousClock.now
            let second = try launch(executable, arguments, in: folder)
            let found = readLines(second) { $0.hasPrefix("recovered") }
            let elapsed = ContinuousClock.now - start
            second.send(SIGKILL)
            _ = second.waitForExitBlocking()
            if found { latencies.append(elapsed) }
        }
        return latencies.sorted()
    }

    private static func launch(_ executable: URL, _ arguments: [String], in folder: URL) throws -> SpawnedProcess {
        try SpawnedProcess(
            executable: executable.path, arguments: arguments, workingDirectory: folder.path, standardOutput: .pipe, standardError: .discard)
    }

    /// Reads lines until one matches (true) or the output ends (false); closes the pipe.
    private static func readLines(_ process: SpawnedProcess, until matches: (String) -> Bool) -> Bool {
        guard let descriptor = process.standardOutput else { return false }
        defer { close(descriptor) }
        var pending = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return false }
            pending.append(contentsOf: buffer[..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if matches(line) { return true }
            }
        }
}
}
