import Testing
@testable import Tributary

/// Writing records in place into an array's spare capacity: what the record loops of map,
/// filter, compactMap and the generator source rely on.
@Suite struct SpareCapacityFillTests {
    struct Boom: Error {}

    @Test func appendsAfterTheExistingElementsAndKeepsOnlyTheInitialisedSlots() {
        var results = ["a", "b"]
        let records = (0..<10).map { "r\($0)" }
        let failure = results.appendAtMostOneEach(of: records, from: 3) { record, slot in
            guard record.hasSuffix("4") || record.hasSuffix("7") || record.hasSuffix("9") else { return false }
            slot.initialize(to: record.uppercased())
            return true
        }
        #expect(failure == nil)
        #expect(results == ["a", "b", "R4", "R7", "R9"])
    }

    @Test func aThrowingRecordKeepsTheOutputsBeforeItAndReportsItsIndex() throws {
        var results: [String] = []
        let records = (0..<8).map { "r\($0)" }
        let failure = results.appendAtMostOneEach(of: records, from: 0) { record, slot in
            if record == "r5" { throw Boom() }
            slot.initialize(to: record + "!")
            return true
        }
        let reported = try #require(failure)
        #expect(reported.index == 5)
        #expect(reported.error is Boom)
        #expect(results == ["r0!", "r1!", "r2!", "r3!", "r4!"])
        // The retry from the failed record appends after what is there.
        let retried = results.appendAtMostOneEach(of: records, from: 6) { record, slot in
            slot.initialize(to: record + "?")
            return true
        }
        #expect(retried == nil)
        #expect(results == ["r0!", "r1!", "r2!", "r3!", "r4!", "r6?", "r7?"])
    }

    @Test func aBatchWithNothingLeftFromTheStartAppendsNothing() {
        var results = [1, 2]
        var called = false
        let failure = results.appendAtMostOneEach(of: [7, 8], from: 2) { record, slot in
            called = true
            slot.initialize(to: record)
            return true
        }
        #expect(failure == nil)
        #expect(!called)
        #expect(results == [1, 2])
    }

    @Test func aSharedArrayIsCopiedNotWrittenThrough() {
        var results = [1, 2, 3]
        results.reserveCapacity(100)
        let shared = results
        _ = results.appendInPlace(count: 2) { slots in
            slots.initialize(to: 10)
            (slots + 1).initialize(to: 11)
            return 2
        }
        #expect(results == [1, 2, 3, 10, 11])
        #expect(shared == [1, 2, 3])
    }

    @Test func aBufferWithoutRoomForTheFillIsLeftUntouched() {
        // The fallback in appendInPlace relies on the fill refusing a buffer that is too small
        // (the standard library handing over less room than was reserved).
        var ran = false
        let written = withUnsafeMutablePointer(to: &ran) { ran in
            let fill = SpareCapacityFill<Int>(needed: 4, ran: ran) { _ in
                Issue.record("the fill ran on a buffer that is too small")
                return 0
            }
            return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3) { buffer in fill._copyContents(initializing: buffer).1 }
        }
        #expect(written == 0)
        #expect(!ran)
    }
}
