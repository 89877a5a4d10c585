import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `keyBy` with a key function that throws: the record fails in the keyed operator after it
/// (routing, which cannot fail a record, sends it to any instance), under that operator's
/// policy, and no key's state sees it.
@Suite struct ThrowingKeyTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    struct NoKey: Error, Equatable {
        let record: Int
    }

    static let records = Array(0..<1_000)
    static func hasKey(_ record: Int) -> Bool { record % 97 != 5 }

    static func key(_ record: Int) throws -> Int {
        guard hasKey(record) else { throw NoKey(record: record) }
        return record % 10
    }

    enum Operator: String, CaseIterable, Sendable {
        case reduce, process, window
    }

    /// The keyed operator `kind`, named "keyed", with `parallelism` instances under `policy`.
    static func build(_ env: LocalEnvironment, _ kind: Operator, parallelism: Int, policy: SupervisionPolicy? = nil) -> DataStream<String> {
        let keyed = env.fromCollection(records).withTimestamps({ .milliseconds($0) }, watermarks: .monotonous()).keyBy(key)
        func configured<T>(_ stream: DataStream<T>) -> DataStream<T> {
            let named = stream.named("keyed").parallelism(parallelism)
            return policy.map { named.supervised($0) } ?? named
        }
        switch kind {
        case .reduce:
            return configured(keyed.reduce(+)).map { "\($0)" }
        case .process:
            return configured(
                keyed.process(initial: 0) { (context: inout KeyedProcessContext<Int, Int, String>, record: Int) in
                    context.state += record
                    context.emit("\(context.key):\(context.state)")
                })
        case .window:
            return configured(
                keyed.window(.tumbling(size: .milliseconds(100)), eventTime: { .milliseconds($0) })
                    .aggregate(initial: 0, add: { count, _ in count += 1 }) { key, window, count in "\(key)@\(Int(window.start / .milliseconds(1))) \(count)" })
        }
    }

    /// What each operator emits for the records that have a key, by a plain loop.
    static func expected(_ kind: Operator) -> [String] {
        let good = records.filter(hasKey)
        switch kind {
        case .reduce, .process:
            var sums: [Int: Int] = [:]
            return good.map { record in
                sums[record % 10, default: 0] += record
                return kind == .reduce ? "\(sums[record % 10]!)" : "\(record % 10):\(sums[record % 10]!)"
            }.sorted()
        case .window:
            return Dictionary(grouping: good) { "\($0 % 10)@\($0 / 100 * 100)" }.map { "\($0.key) \($0.value.count)" }.sorted()
        }
    }

    @Test(arguments: Operator.allCases, [1, 2])
    func aRecordWhoseKeyThrowsIsResumedPastByTheKeyedOperator(kind: Operator, parallelism: Int) async throws {
        let env = try LocalEnvironment("throwing-key", config: ["work_dir": .string(directory.path("work")), "batch_size": 32])
        let sink = CollectSink<String>()
        Self.build(env, kind, parallelism: parallelism, policy: .resume).sink(sink)
        let result = try await env.submit()
        #expect(sink.values.sorted() == Self.expected(kind))
        let bad = Self.records.filter { !Self.hasKey($0) }
        #expect(result.deadLetters.map(\.record).sorted() == bad.map(String.init).sorted())
        #expect(result.deadLetters.allSatisfy { $0.operatorName == "keyed" && $0.error is NoKey })
    }

    @Test(arguments: Operator.allCases)
    func aKeyThatKeepsThrowingFailsTheJobNamingTheKeyedOperator(kind: Operator) async throws {
        let env = try LocalEnvironment(
            "throwing-key-fails", config: ["work_dir": .string(directory.path("work")), "fault_tolerance": ["delay": 0, "max_attempts": 2]])
        Self.build(env, kind, parallelism: 2).sink(CollectSink<String>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "keyed")
        #expect(error?.cause.error as? NoKey == NoKey(record: 5))
    }
}
