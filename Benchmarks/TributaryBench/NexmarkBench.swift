import Foundation
import Nexmark
import Synchronization
import Tributary

/// The Nexmark queries on events from the in-process generator: the engine without and with
/// checkpoints every second, against the same query written by hand as one loop
/// (`HandWrittenQueries`), all producing the same rows (count and an order-independent
/// checksum); and the JSON-lines reader on its own.
enum NexmarkBench {
    /// The official benchmark's setting: 10,000,000 events per second of event time, so the
    /// windows and joins of a 10,000,000-event run hold as much as the official run's.
    static let generator = EventGenerator(seed: 0, eventsPerSecond: 10_000_000)

    /// An order-independent digest of rows: their count and the sum of each row's FNV-1a hash.
    static func digest(_ row: String, into outcome: inout Outcome) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in row.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        outcome.count += 1
        outcome.checksum &+= Int(truncatingIfNeeded: hash)
    }

    static func handWritten(_ query: Query, events: Int) -> Outcome {
        var outcome = Outcome(count: 0, checksum: 0)
        _ = HandWrittenQueries.run(query, count: events, event: { generator.event(at: $0) }) { digest($0, into: &outcome) }
        return outcome
    }

    /// Runs the query in the engine; with `checkpointDirectory`, with checkpoints every second.
    /// Returns the rows' digest and the last checkpoint's size.
    static func engine(_ query: Query, events: Int, checkpointDirectory: String? = nil) async throws -> (Outcome, Int?) {
        var config: [String: ConfigValue] = ["work_dir": .string(FileManager.default.temporaryDirectory.appendingPathComponent("tributary-bench-nexmark").path)]
        if let checkpointDirectory {
            config["fault_tolerance"] = ["strategy": "checkpoint", "checkpoint_interval": 1.0, "checkpoint_dir": .string(checkpointDirectory)]
        }
        let env = try LocalEnvironment("nexmark-\(query)", config: config)
        let sink = DigestSink()
        let generator = self.generator
        let source = env.fromSource(GeneratorSource(count: events) { generator.event(at: $0) }).named("events")
        query.build(Query.timestamped(source)).sink(sink)
        let result = try await env.submit()
        return (sink.outcome, result.checkpoints.last?.bytes)
    }

    /// Folds rows into a digest as they are written.
    final class DigestSink: Sink, Sendable {
        private let total = Mutex(Outcome(count: 0, checksum: 0))
        var outcome: Outcome { total.withLock { $0 } }

        func makeWriter(_ context: SinkContext) throws -> Writer { Writer(sink: self) }

        struct Writer: SinkWriter {
            let sink: DigestSink
            mutating func write(_ records: [String]) throws {
                var part = Outcome(count: 0, checksum: 0)
                for row in records { NexmarkBench.digest(row, into: &part) }
                sink.total.withLock {
                    $0.count += part.count
                    $0.checksum &+= part.checksum
                }
            }
        }
    }

    /// The reader alone: parses the sample's lines `rounds` times; returns events/s and MB/s.
    static func reader(sample path: String, rounds: Int) throws -> (eventsPerSecond: Double, megabytesPerSecond: Double)? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let bytes = [UInt8](data)
        var lines: [Range<Int>] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if index > start { lines.append(start..<index) }
            start = index + 1
        }
        var events = 0
        let began = ContinuousClock.now
        try bytes.withUnsafeBufferPointer { buffer in
            for _ in 0..<rounds {
                for line in lines {
                    _ = try EventParser.parse(UnsafeBufferPointer(rebasing: buffer[line]))
                    events += 1
                }
            }
        }
        let seconds = Measure.seconds(ContinuousClock.now - began)
        return (Double(events) / seconds, Double(bytes.count * rounds) / seconds / 1e6)
    }
}
