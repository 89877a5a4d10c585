import Foundation
import Testing
@testable import Tributary

@Suite struct OperatorTests {
    @Test func mapTransformsEveryRecordInOrder() async throws {
        let env = try LocalEnvironment("map")
        let sink = CollectSink<String>()
        env.fromCollection(Array(1...5000)).map { "n\($0 * 3)" }.sink(sink)
        let result = try await env.submit()
        #expect(sink.values == (1...5000).map { "n\($0 * 3)" })
        #expect(result.status == .completed)
        #expect(result[operator: "map-1"] == .init(name: "map-1", kind: "map", parallelism: 1, recordsIn: 5000, recordsOut: 5000))
    }

    @Test func filterKeepsMatchingRecords() async throws {
        let env = try LocalEnvironment("filter")
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<3000)).filter { $0 % 7 == 3 }.sink(sink)
        let result = try await env.submit()
        #expect(sink.values == (0..<3000).filter { $0 % 7 == 3 })
        #expect(result[operator: "filter-1"]?.recordsOut == sink.values.count)
    }

    @Test func flatMapEmitsZeroOneOrManyPerRecord() async throws {
        let env = try LocalEnvironment("flatMap")
        let sink = CollectSink<String>()
        env.fromCollection(["a b c", "", "d", "e f"])
            .flatMap { line in line.split(separator: " ").map(String.init) }
            .sink(sink)
        let result = try await env.submit()
        #expect(sink.values == ["a", "b", "c", "d", "e", "f"])
        #expect(result[operator: "flatMap-1"]?.recordsIn == 4)
        #expect(result[operator: "flatMap-1"]?.recordsOut == 6)
    }

    @Test func chainedOperatorsAcrossManyBatches() async throws {
        let env = try LocalEnvironment("chain", config: ["batch_size": 7])
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 1000) { $0 })
            .map { $0 + 1 }
            .filter { $0.isMultiple(of: 2) }
            .flatMap { [$0, -$0] }
            .sink(sink)
        _ = try await env.submit()
        #expect(sink.values == (1...1000).filter { $0.isMultiple(of: 2) }.flatMap { [$0, -$0] })
    }

    @Test func mapAsyncPreservesInputOrderWhileCallsFinishOutOfOrder() async throws {
        let env = try LocalEnvironment("mapAsync", config: ["batch_size": 16])
        let sink = CollectSink<Int>()
        let concurrent = Counter()
        let maxSeen = Recorder<Int>()
        env.fromCollection(Array(0..<200))
            .mapAsync(maxConcurrency: 8) { value in
                maxSeen.append(concurrent.increment())
                // Later records of a window finish first: they yield fewer times.
                for _ in 0..<(20 - value % 8) { await Task.yield() }
                _ = concurrent.decrement()
                return value * 10
            }
            .sink(sink)
        _ = try await env.submit()
        #expect(sink.values == (0..<200).map { $0 * 10 })
        #expect((maxSeen.values.max() ?? 0) <= 8)
    }

    @Test func mapAsyncTimeoutFailsTheJobNamingTheOperatorAndRecord() async throws {
        let env = try LocalEnvironment("timeout", config: ["fault_tolerance": ["strategy": "none"]])
        let sink = CollectSink<Int>()
        env.fromCollection([1, 2, 3])
            .mapAsync(maxConcurrency: 2, timeout: .milliseconds(50)) { value in
                if value == 2 {
                    // Hangs until cancelled: an AsyncStream that never yields ends on cancellation.
                    let never = AsyncStream<Int> { _ in }
                    for await _ in never {}
                }
                return value
            }
            .named("lookup")
            .sink(sink)
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "lookup")
        #expect(error?.cause.recordIndex == 1)
        #expect(error?.cause.record == "2")
        #expect(error?.cause.error is OperatorTimeoutError)
    }

    @Test func factoryMapGivesEachInstanceAFreshOperator() async throws {
        struct Numbering: MapOperator {
            var seen = 0
            mutating func map(_ input: String) async throws -> String {
                seen += 1
                return "\(seen):\(input)"
            }
        }
        let made = Counter()
        let env = try LocalEnvironment("factory")
        let sink = CollectSink<String>()
        env.fromCollection(["a", "b", "c"])
            .map { () -> Numbering in
                made.increment()
                return Numbering()
            }
            .sink(sink)
        _ = try await env.submit()
        #expect(sink.values == ["1:a", "2:b", "3:c"])
        #expect(made.current == 1)
    }

    @Test func factoryErrorsFailTheJobNamingTheOperator() async throws {
        struct Never: MapOperator {
            mutating func map(_ input: Int) async throws -> Int { input }
        }
        let env = try LocalEnvironment("factory-error")
        env.fromCollection([1]).map { () throws -> Never in throw InjectedError("cannot connect") }.named("enrich").sink(CollectSink<Int>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "enrich")
        #expect(error?.cause.recordIndex == nil)
        #expect(error?.cause.error as? InjectedError == InjectedError("cannot connect"))
    }

    @Test func reduceEmitsTheRunningValuePerKey() async throws {
        struct Reading: Codable, Sendable, Equatable {
            var sensor: String
            var value: Int
        }
        let input = (0..<100).map { Reading(sensor: "s\($0 % 3)", value: $0) }
        let env = try LocalEnvironment("reduce")
        let sink = CollectSink<Reading>()
        env.fromCollection(input)
            .keyBy { $0.sensor }
            .reduce { Reading(sensor: $0.sensor, value: $0.value + $1.value) }
            .sink(sink)
        _ = try await env.submit()
        var sums: [String: Int] = [:]
        let expected = input.map { reading -> Reading in
            sums[reading.sensor, default: 0] += reading.value
            return Reading(sensor: reading.sensor, value: sums[reading.sensor]!)
        }
        #expect(sink.values == expected)
    }

    @Test func mapWithStateKeepsOneValuePerKey() async throws {
        let words = "the cat and the dog and the bird".split(separator: " ").map(String.init)
        let env = try LocalEnvironment("wordcount")
        let sink = CollectSink<String>()
        env.fromCollection(words)
            .keyBy { $0 }
            .mapWithState(initial: 0) { (count: inout Int, word: String) in
                count += 1
                return "\(word)=\(count)"
            }
            .sink(sink)
        _ = try await env.submit()
        #expect(sink.values == ["the=1", "cat=1", "and=1", "the=2", "dog=1", "and=2", "the=3", "bird=1"])
    }

    @Test func keyedOperatorsWithParallelismSeeEveryRecordOfAKeyInOrder() async throws {
        let input = (0..<20_000).map { (key: $0 % 97, value: $0) }
        let env = try LocalEnvironment("parallel-keyed", config: ["batch_size": 64])
        let sink = CollectSink<String>()
        env.fromCollection(input.map { "\($0.key):\($0.value)" })
            .map { line -> (Int, Int) in
                let parts = line.split(separator: ":")
                return (Int(parts[0]) ?? -1, Int(parts[1]) ?? -1)
            }
            .keyBy { $0.0 }
            .mapWithState(initial: [Int]()) { (seen: inout [Int], record: (Int, Int)) in
                seen.append(record.1)
                return "\(record.0):\(seen.count):\(record.1)"
            }
            .parallelism(4)
            .sink(sink)
        let result = try await env.submit()
        // Per key: values arrive in input order and the count runs 1, 2, 3, ...
        var expected: [Int: [String]] = [:]
        for record in input {
            let count = (expected[record.key]?.count ?? 0) + 1
            expected[record.key, default: []].append("\(record.key):\(count):\(record.value)")
        }
        var actual: [Int: [String]] = [:]
        for line in sink.values {
            actual[Int(line.split(separator: ":")[0]) ?? -1, default: []].append(line)
        }
        #expect(actual == expected)
        #expect(result[operator: "mapWithState-2"]?.parallelism == 4)
        #expect(result[operator: "mapWithState-2"]?.recordsIn == input.count)
    }

    @Test func statelessParallelOperatorsProcessEveryRecordOnce() async throws {
        let env = try LocalEnvironment("parallel-map", config: ["batch_size": 10])
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 5000) { $0 })
            .map { $0 * 2 }.parallelism(3)
            .filter { $0 % 4 == 0 }.parallelism(3)
            .sink(sink)
        _ = try await env.submit()
        #expect(sink.values.sorted() == (0..<5000).map { $0 * 2 }.filter { $0 % 4 == 0 })
    }

    @Test func aThrowingOperatorFailsTheJobNamingOperatorRecordAndError() async throws {
        let env = try LocalEnvironment("failing", config: ["fault_tolerance": ["strategy": "none"]])
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<100))
            .map { value -> Int in
                if value == 42 { throw InjectedError("bad record") }
                return value
            }
            .named("parse")
            .sink(sink)
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "parse")
        #expect(error?.cause.recordIndex == 42)
        #expect(error?.cause.record == "42")
        #expect(error?.cause.error as? InjectedError == InjectedError("bad record"))
        #expect(error?.history.count == 1)
        #expect(error?.result.status == .failed)
        #expect(error?.description.contains("operator 'parse' failed on record #42 (42): InjectedError(bad record)") == true)
    }

    @Test func aThrowingKeyedOperatorLeavesItsKeyStateUntouched() throws {
        // Drives the keyed step directly: record 2 mutates the state and then throws.
        let input = BatchBuffer<Int>(capacity: 4)
        let output = BatchBuffer<Int>(capacity: 4)
        let store = KeyedStateStore<Int, [Int]>()
        let failOn = Counter()
        let body = makeKeyedBody(input, output, store: store, key: { _ in 0 }) { table, key, hash, record, slot in
            slot.initialize(to: try updateKeepingStateOnThrow(&table[key, hash: hash, default: []], record) { (state: inout [Int], value: Int) -> Int in
                state.append(value)
                if value == 2, failOn.current == 0 { throw InjectedError() }
                return state.count
            })
        }
        guard case .sync(let run) = body else {
            Issue.record("keyed bodies are synchronous")
            return
        }
        input.items = [0, 1, 2, 3]
        guard case .failed(let index, let recordsIn, let recordsOut, _, _) = run(0) else {
            Issue.record("record 2 should fail")
            return
        }
        #expect(index == 2 && recordsIn == 2 && recordsOut == 2)
        #expect(store.values[0] == [0, 1], "the failed call's append must not be visible")
        #expect(input.items == [0, 1, 2, 3], "the batch stays for a retry")
        failOn.increment()
        guard case .completed(let retriedIn, let retriedOut) = run(index) else {
            Issue.record("the retry should succeed")
            return
        }
        #expect(retriedIn == 2 && retriedOut == 2)
        #expect(store.values[0] == [0, 1, 2, 3])
        #expect(output.items == [1, 2, 3, 4])
    }

    @Test func aThrowingReduceLeavesTheRunningValueUntouched() throws {
        var slot: Int? = 10
        #expect(throws: InjectedError.self) { try reduceSlot(&slot, 5) { _, _ in throw InjectedError() } }
        #expect(slot == 10)
        #expect(try reduceSlot(&slot, 5, +) == 15)
        var empty: Int? = nil
        #expect(try reduceSlot(&empty, 7) { _, _ in throw InjectedError() } == 7)
        #expect(empty == 7)
    }
}

extension Counter {
    func decrement() -> Int { increment(by: -1) }
}
