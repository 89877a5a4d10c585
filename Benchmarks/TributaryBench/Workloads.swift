import Synchronization
import Tributary

/// W1's record: a key in 0..<10,000 and a value.
struct Event: Codable, Sendable {
    var key: Int
    var value: Int
}

/// Counts records and folds their values into a checksum, so every implementation of a
/// workload can be checked against the plain loop's answer.
final class CountingSink: Sink, Sendable {
    private let totals = Mutex((count: 0, checksum: 0))

    var count: Int { totals.withLock { $0.count } }
    var checksum: Int { totals.withLock { $0.checksum } }

    func makeWriter(_ context: SinkContext) throws -> Writer { Writer(sink: self) }

    struct Writer: SinkWriter {
        let sink: CountingSink
        mutating func write(_ records: [Event]) throws {
            var checksum = 0
            for record in records { checksum &+= record.value }
            sink.totals.withLock {
                $0.count += records.count
                $0.checksum &+= checksum
            }
        }
    }
}

/// What one run of a workload produced: how many records reached the end and their checksum.
struct Outcome: Equatable {
    var count: Int
    var checksum: Int
}

enum W1 {
    static let keys = 10_000

    /// The reference: a single-threaded loop with a Dictionary for the running sums.
    static func plainLoop(records: Int) -> Outcome {
        var sums: [Int: Int] = [:]
        var outcome = Outcome(count: 0, checksum: 0)
        for i in 0..<records {
            let event = Event(key: i % keys, value: i &* 2)
            let sum = sums[event.key, default: 0] &+ event.value
            sums[event.key] = sum
            outcome.count += 1
            outcome.checksum &+= sum
        }
        return outcome
    }

    /// - Parameter keyedParallelism: instances of the keyed `reduce` (and of the sink after it).
    /// - Parameter metricsInterval: `metrics_interval` (0: no metrics, so no per-batch metering).
    static func tributary(records: Int, batchSize: Int = 1024, keyedParallelism: Int = 1, metricsInterval: Double = 5) async throws -> Outcome {
        let env = try LocalEnvironment("w1", config: ["batch_size": .int(batchSize), "metrics_interval": .double(metricsInterval)])
        let sink = CountingSink()
        env.fromSource(GeneratorSource(count: records) { i in Event(key: i % keys, value: i) })
            .map { Event(key: $0.key, value: $0.value &* 2) }
            .keyBy { $0.key }
            .reduce { Event(key: $0.key, value: $0.value &+ $1.value) }
            .parallelism(keyedParallelism)
            .sink(sink).parallelism(keyedParallelism)
        _ = try await env.submit()
        return Outcome(count: sink.count, checksum: sink.checksum)
    }

    /// What a Swift user writes without an engine: one task per stage, AsyncStreams between
    /// them, one element per yield.
    static func asyncStreamPerRecord(records: Int) async -> Outcome {
        let (generated, generator) = AsyncStream.makeStream(of: Event.self)
        let (mapped, mapper) = AsyncStream.makeStream(of: Event.self)
        let (summed, summer) = AsyncStream.makeStream(of: Int.self)
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                for i in 0..<records { generator.yield(Event(key: i % keys, value: i)) }
                generator.finish()
                return nil
            }
            group.addTask {
                for await event in generated { mapper.yield(Event(key: event.key, value: event.value &* 2)) }
                mapper.finish()
                return nil
            }
            group.addTask {
                var sums: [Int: Int] = [:]
                for await event in mapped {
                    let sum = sums[event.key, default: 0] &+ event.value
                    sums[event.key] = sum
                    summer.yield(sum)
                }
                summer.finish()
                return nil
            }
            group.addTask {
                var outcome = Outcome(count: 0, checksum: 0)
                for await sum in summed {
                    outcome.count += 1
                    outcome.checksum &+= sum
                }
                return outcome
            }
            var result = Outcome(count: 0, checksum: 0)
            for await outcome in group { if let outcome { result = outcome } }
            return result
        }
    }

    /// The same AsyncStream pipeline moving arrays of `chunk` records per yield.
    static func asyncStreamBatched(records: Int, chunk: Int = 1024) async -> Outcome {
        let (generated, generator) = AsyncStream.makeStream(of: [Event].self)
        let (mapped, mapper) = AsyncStream.makeStream(of: [Event].self)
        let (summed, summer) = AsyncStream.makeStream(of: [Int].self)
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                var start = 0
                while start < records {
                    let end = min(records, start + chunk)
                    var batch: [Event] = []
                    batch.reserveCapacity(end - start)
                    for i in start..<end { batch.append(Event(key: i % keys, value: i)) }
                    generator.yield(batch)
                    start = end
                }
                generator.finish()
                return nil
            }
            group.addTask {
                for await batch in generated {
                    mapper.yield(batch.map { Event(key: $0.key, value: $0.value &* 2) })
                }
                mapper.finish()
                return nil
            }
            group.addTask {
                var sums: [Int: Int] = [:]
                for await batch in mapped {
                    var out: [Int] = []
                    out.reserveCapacity(batch.count)
                    for event in batch {
                        let sum = sums[event.key, default: 0] &+ event.value
                        sums[event.key] = sum
                        out.append(sum)
                    }
                    summer.yield(out)
                }
                summer.finish()
                return nil
            }
            group.addTask {
                var outcome = Outcome(count: 0, checksum: 0)
                for await batch in summed {
                    for sum in batch {
                        outcome.count += 1
                        outcome.checksum &+= sum
                    }
                }
                return outcome
            }
            var result = Outcome(count: 0, checksum: 0)
            for await outcome in group { if let outcome { result = outcome } }
            return result
        }
    }
}

enum W0 {
    /// map value*2, keep multiples of 3, count: single-threaded reference.
    static func plainLoop(records: Int) -> Outcome {
        var outcome = Outcome(count: 0, checksum: 0)
        for i in 0..<records {
            let event = Event(key: i % W1.keys, value: i &* 2)
            if event.value % 3 == 0 {
                outcome.count += 1
                outcome.checksum &+= event.value
            }
        }
        return outcome
    }

    static func tributary(records: Int) async throws -> Outcome {
        let env = try LocalEnvironment("w0")
        let sink = CountingSink()
        env.fromSource(GeneratorSource(count: records) { i in Event(key: i % W1.keys, value: i) })
            .map { Event(key: $0.key, value: $0.value &* 2) }
            .filter { $0.value % 3 == 0 }
            .sink(sink)
        _ = try await env.submit()
        return Outcome(count: sink.count, checksum: sink.checksum)
    }
}

extension W0 {
    /// W0 as a hand-written pipeline, one task per stage (generate, map, filter, count) and
    /// AsyncStreams of arrays of `chunk` records between them.
    static func asyncStreamBatched(records: Int, chunk: Int = 1024) async -> Outcome {
        let (generated, generator) = AsyncStream.makeStream(of: [Event].self)
        let (mapped, mapper) = AsyncStream.makeStream(of: [Event].self)
        let (filtered, filterer) = AsyncStream.makeStream(of: [Event].self)
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                var start = 0
                while start < records {
                    let end = min(records, start + chunk)
                    var batch: [Event] = []
                    batch.reserveCapacity(end - start)
                    for i in start..<end { batch.append(Event(key: i % W1.keys, value: i)) }
                    generator.yield(batch)
                    start = end
                }
                generator.finish()
                return nil
            }
            group.addTask {
                for await batch in generated { mapper.yield(batch.map { Event(key: $0.key, value: $0.value &* 2) }) }
                mapper.finish()
                return nil
            }
            group.addTask {
                for await batch in mapped { filterer.yield(batch.filter { $0.value % 3 == 0 }) }
                filterer.finish()
                return nil
            }
            group.addTask {
                var outcome = Outcome(count: 0, checksum: 0)
                for await batch in filtered {
                    for event in batch {
                        outcome.count += 1
                        outcome.checksum &+= event.value
                    }
                }
                return outcome
            }
            var result = Outcome(count: 0, checksum: 0)
            for await outcome in group { if let outcome { result = outcome } }
            return result
        }
    }
}
