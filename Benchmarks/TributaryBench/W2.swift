import Synchronization
import Tributary

/// W2: work closer to an application's than W1's. `String` keys (100,000 customers), a
/// struct state of three fields per key, a `filter`, and a `map` that builds a struct.
enum W2 {
    static let customerCount = 100_000
    /// Made once, outside every measurement: each implementation only picks one per record.
    static let customers = (0..<customerCount).map { "customer-\($0)" }

    struct Order: Sendable {
        var customer: String
        var amount: Int
        var quantity: Int
    }

    struct Line: Sendable {
        var customer: String
        var value: Int
    }

    struct Summary: Codable, Sendable {
        var orders = 0
        var total = 0
        var largest = 0

        mutating func add(_ value: Int) {
            orders += 1
            total &+= value
            largest = max(largest, value)
        }

        /// Adds `value` and returns the new digest (one table access in the plain loop).
        mutating func adding(_ value: Int) -> Int {
            add(value)
            return digest
        }

        /// What the pipeline emits per order: folds all three fields in.
        var digest: Int { total &+ largest &* 3 &+ orders }
    }

    static func order(_ i: Int) -> Order {
        Order(customer: customers[i % customerCount], amount: i % 1_000, quantity: i % 7 + 1)
    }

    static func plainLoop(records: Int) -> Outcome {
        var summaries: [String: Summary] = [:]
        var outcome = Outcome(count: 0, checksum: 0)
        for i in 0..<records {
            let order = order(i)
            guard order.quantity != 3 else { continue }
            let line = Line(customer: order.customer, value: order.amount &* order.quantity)
            outcome.count += 1
            outcome.checksum &+= summaries[line.customer, default: Summary()].adding(line.value)
        }
        return outcome
    }

    static func tributary(records: Int) async throws -> Outcome {
        let env = try LocalEnvironment("w2")
        let sink = DigestSink()
        env.fromSource(GeneratorSource(count: records) { order($0) })
            .filter { $0.quantity != 3 }
            .map { Line(customer: $0.customer, value: $0.amount &* $0.quantity) }
            .keyBy { $0.customer }
            .mapWithState(initial: Summary()) { (summary: inout Summary, line: Line) in
                summary.add(line.value)
                return summary.digest
            }
            .sink(sink)
        _ = try await env.submit()
        return sink.outcome
    }
}

/// Counts `Int` records and sums them.
final class DigestSink: Sink, Sendable {
    private let totals = Mutex(Outcome(count: 0, checksum: 0))

    var outcome: Outcome { totals.withLock { $0 } }

    func makeWriter(_ context: SinkContext) throws -> Writer { Writer(sink: self) }

    struct Writer: SinkWriter {
        let sink: DigestSink
        mutating func write(_ records: [Int]) throws {
            var checksum = 0
            for record in records { checksum &+= record }
            sink.totals.withLock {
                $0.count += records.count
                $0.checksum &+= checksum
            }
        }
    }
}
