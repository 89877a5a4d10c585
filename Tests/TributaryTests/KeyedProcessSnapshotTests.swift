import Foundation
import Testing
@testable import Tributary

/// The checkpoint part of keyed process functions and windows: a binary frame that round-trips
/// table, timers and watermark, still reads parts written as `Codable` before it, and rejects
/// damaged bytes with an error instead of trapping.
@Suite struct KeyedProcessSnapshotTests {
    static func timers<Key>(_ keys: [Key]) -> [TimerQueue<Key>.Entry] {
        keys.enumerated().map { index, key in
            TimerQueue<Key>.Entry(
                key: key, time: .milliseconds(index * 7 - 3), domain: index % 3 == 0 ? .processingTime : .eventTime, sequence: UInt64(index))
        }
    }

    static func same<Key>(_ a: KeyedProcessSnapshot<Key>, _ b: KeyedProcessSnapshot<Key>) -> Bool {
        a.table == b.table && a.watermark == b.watermark && a.timers.count == b.timers.count
            && zip(a.timers, b.timers).allSatisfy { $0.key == $1.key && $0.time == $1.time && $0.domain == $1.domain && $0.sequence == $1.sequence }
    }

    @Test func numberAndStringKeysRoundTripWithAndWithoutAWatermark() throws {
        for watermark in [nil, Duration.milliseconds(-5), .seconds(1_436_918_400)] as [Duration?] {
            let ints = KeyedProcessSnapshot<Int64>(table: [1, 2, 3, 250], timers: Self.timers([5, -7, 5, Int64.max]), watermark: watermark)
            #expect(Self.same(try KeyedProcessSnapshot<Int64>.decode(try ints.encoded()), ints))
            let strings = KeyedProcessSnapshot<String>(table: [], timers: Self.timers(["a", "", "ünïcode"]), watermark: watermark)
            #expect(Self.same(try KeyedProcessSnapshot<String>.decode(try strings.encoded()), strings))
        }
    }

    @Test func aPartWrittenAsCodableBeforeTheFrameIsStillRead() throws {
        let old = KeyedProcessSnapshot<Int>(table: [9, 8, 7], timers: Self.timers([1, 2]), watermark: nil)
        let bytes = try StateCoder.encode(old)
        #expect(bytes.first != 0xD1)
        #expect(Self.same(try KeyedProcessSnapshot<Int>.decode(bytes), old))
    }

    /// A checkpoint lists timers in no order. A restore fires them by time and sequence number;
    /// timers of two instances' parts with equal times and sequence numbers (a change of
    /// parallelism) fire in an order fixed by the parts, not by how each part lists them.
    @Test func restoredTimersFireInAFixedOrderWhateverOrderThePartsListThem() {
        func part(keys: Range<Int>) -> [TimerQueue<Int>.Entry] {
            keys.enumerated().map { index, key in
                TimerQueue<Int>.Entry(key: key, time: .seconds(index % 3), domain: index % 2 == 0 ? .eventTime : .processingTime, sequence: UInt64(index))
            }
        }
        let first = part(keys: 0..<200), second = part(keys: 200..<400)
        func firingOrder(_ queue: TimerQueue<Int>, _ domain: TimeDomain) -> [Int] {
            var queue = queue
            var fired: [Int] = []
            while let (timer, _) = queue.peek(domain) {
                queue.removePeeked(timer)
                fired.append(timer.key)
            }
            return fired
        }
        var generator = SystemRandomNumberGenerator()
        var orders: Set<[Int]> = []
        for _ in 0..<6 {
            var restored = TimerQueue<Int>()
            restored.restore(first.shuffled(using: &generator), keep: { _ in true })
            restored.restore(second.shuffled(using: &generator), keep: { _ in true })
            let order = firingOrder(restored, .eventTime) + firingOrder(restored, .processingTime)
            #expect(order.count == 400)
            orders.insert(order)
        }
        #expect(orders.count == 1, "one firing order, whatever the listing order: \(orders.count) seen")
    }

    @Test func damagedBytesThrow() throws {
        let bytes = try KeyedProcessSnapshot<Int>(table: Array(repeating: 1, count: 40), timers: Self.timers([1, 2, 3]), watermark: .seconds(3)).encoded()
        for length in stride(from: 1, to: bytes.count, by: 3) {
            #expect(throws: (any Error).self) { try KeyedProcessSnapshot<Int>.decode(Array(bytes.prefix(length))) }
        }
        var flag = bytes
        flag[1] = 7
        #expect(throws: (any Error).self) { try KeyedProcessSnapshot<Int>.decode(flag) }
        #expect(throws: (any Error).self) { try KeyedProcessSnapshot<Int>.decode(bytes + [0]) }
    }
}
