import Foundation
import Tributary

/// The keyed state table against `Dictionary`: updates (`table[key, default: 0] += 1`) and
/// lookups per second, for `Int` and `String` keys, with 10,000 and 1,000,000 keys.
enum StateTableBench {
    struct Row {
        let keys: String
        let count: Int
        let operation: String
        let table: Double
        let dictionary: Double
    }

    static func run(operations: Int) -> [Row] {
        var rows: [Row] = []
        for count in [10_000, 1_000_000] {
            // A scrambled order, so consecutive operations do not walk the table in order.
            let order = (0..<operations).map { ($0 &* 7_919) % count }
            let ints = Array(0..<count)
            let strings = (0..<count).map { "user-\($0)" }
            rows += measure("Int", count: count, keys: ints, order: order)
            rows += measure("String", count: count, keys: strings, order: order)
        }
        return rows
    }

    private static func measure<Key: Hashable>(_ name: String, count: Int, keys: [Key], order: [Int]) -> [Row] {
        func rate(_ body: () -> Int) -> Double {
            var best = 0.0
            for _ in 0..<3 {
                let start = ContinuousClock.now
                let checksum = body()
                let seconds = (ContinuousClock.now - start).microseconds / 1e6
                if checksum == -1 { print("") }  // keeps the work observable
                best = max(best, Double(order.count) / seconds)
            }
            return best
        }
        var table = KeyedStateTable<Key, Int>()
        var dictionary: [Key: Int] = [:]
        let tableUpdates = rate {
            for index in order { table[keys[index], default: 0] &+= 1 }
            return table.count
        }
        let dictionaryUpdates = rate {
            for index in order { dictionary[keys[index], default: 0] &+= 1 }
            return dictionary.count
        }
        let tableLookups = rate {
            var sum = 0
            for index in order { sum &+= table[keys[index]] ?? 0 }
            return sum
        }
        let dictionaryLookups = rate {
            var sum = 0
            for index in order { sum &+= dictionary[keys[index]] ?? 0 }
            return sum
        }
        return [
            Row(keys: name, count: count, operation: "update", table: tableUpdates, dictionary: dictionaryUpdates),
            Row(keys: name, count: count, operation: "lookup", table: tableLookups, dictionary: dictionaryLookups),
        ]
    }
}
