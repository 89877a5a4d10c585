import Testing
@testable import Tributary

@Suite struct BarrierHandlerTests {
    @Test func aSingleLaneSnapshotsAtOnceWithoutBlocking() {
        var handler = BarrierHandler(laneCount: 1)
        #expect(handler.barrier(1, lane: 0) == [.snapshot(1)])
        #expect(handler.barrier(2, lane: 0) == [.snapshot(2)])
    }

    @Test func lanesAreBlockedUntilTheBarrierArrivedOnEveryLane() {
        var handler = BarrierHandler(laneCount: 3)
        #expect(handler.barrier(1, lane: 0) == [.block(lane: 0)])
        #expect(handler.barrier(1, lane: 2) == [.block(lane: 2)], "every lane that delivered the barrier waits")
        #expect(handler.isAligning)
        #expect(handler.barrier(1, lane: 1) == [.unblockAll, .snapshot(1)])
        #expect(!handler.isAligning)
    }

    /// The hang this state machine fixes: barrier n blocked lane 0; the newer barrier n+1 on
    /// lane 1 used to leave lane 0 blocked, so lane 0's own n+1 never arrived and a union
    /// stopped forever.
    @Test func aNewerBarrierAbortsTheOlderAlignmentAndUnblocksItsLanes() {
        var handler = BarrierHandler(laneCount: 2)
        #expect(handler.barrier(1, lane: 0) == [.block(lane: 0)])
        #expect(handler.barrier(2, lane: 1) == [.unblockAll, .aborted(1), .block(lane: 1)])
        // Lane 0 flows again and brings its own barrier 2.
        #expect(handler.barrier(2, lane: 0) == [.unblockAll, .snapshot(2)])
        // Barrier 1 arriving late on lane 1 is stale.
        #expect(handler.barrier(1, lane: 1) == [])
    }

    @Test func endOfInputOnTheLastWaitingLaneCompletesTheAlignment() {
        var handler = BarrierHandler(laneCount: 2)
        #expect(handler.barrier(4, lane: 1) == [.block(lane: 1)])
        #expect(handler.endOfInput(lane: 0) == [.unblockAll, .snapshot(4)])
        // From now on lane 1 alone decides.
        #expect(handler.barrier(5, lane: 1) == [.snapshot(5)])
    }

    @Test func anAbandonedCheckpointOrAStopUnblocksEveryLane() {
        var handler = BarrierHandler(laneCount: 2)
        _ = handler.barrier(3, lane: 0)
        #expect(handler.abort(upTo: 3) == [.unblockAll, .aborted(3)])
        #expect(handler.barrier(3, lane: 1) == [], "the abandoned checkpoint's barrier no longer blocks")
        _ = handler.barrier(4, lane: 1)
        #expect(handler.stop() == [.unblockAll, .aborted(4)])
        #expect(handler.abort(upTo: 2) == [])
    }

    /// Random interleavings of barriers (several checkpoints, some skipped by some lanes),
    /// ends of input and aborts, checked against invariants: a lane is blocked only while an
    /// alignment is in progress; a snapshot happens once per id, in increasing order, and only
    /// after every open lane delivered that barrier; when every lane has delivered everything,
    /// nothing stays blocked.
    @Test(arguments: 0..<200)
    func randomInterleavingsNeverLeaveALaneBlockedOrSnapshotTwice(seed: Int) {
        var random = SeededRandom(seed: UInt64(seed))
        let laneCount = 1 + Int(random.next() % 4)
        // Each lane's script: increasing barrier ids (some skipped), then end of input (every
        // real input ends or brings a newer barrier; a lane silent forever would rightly hold
        // an alignment).
        var scripts: [[Int64?]] = (0..<laneCount).map { _ in
            var ids: [Int64?] = []
            for id in Int64(1)...6 where random.next() % 4 != 0 { ids.append(id) }
            ids.append(nil)
            return ids
        }
        var handler = BarrierHandler(laneCount: laneCount)
        var blocked = Set<Int>()
        var snapshots: [Int64] = []
        var delivered = Array(repeating: Set<Int64>(), count: laneCount)
        var ended = Set<Int>()
        var steps = 0
        while steps < 1000 {
            steps += 1
            let ready = (0..<laneCount).filter { !blocked.contains($0) && !scripts[$0].isEmpty }
            if ready.isEmpty { break }
            let lane = ready[Int(random.next() % UInt64(ready.count))]
            let next = scripts[lane].removeFirst()
            let actions: [BarrierHandler.Action]
            if let id = next {
                delivered[lane].insert(id)
                actions = handler.barrier(id, lane: lane)
            } else {
                ended.insert(lane)
                actions = handler.endOfInput(lane: lane)
            }
            var extra: [BarrierHandler.Action] = []
            if random.next() % 10 == 0, let aligning = handler.aligning { extra = handler.abort(upTo: aligning.id) }
            for action in actions + extra {
                switch action {
                case .block(let lane): blocked.insert(lane)
                case .unblockAll: blocked.removeAll()
                case .snapshot(let id):
                    #expect(!snapshots.contains(id), "seed \(seed): checkpoint \(id) snapshotted twice")
                    #expect(snapshots.allSatisfy { $0 < id }, "seed \(seed): snapshots out of order")
                    for open in 0..<laneCount where !ended.contains(open) {
                        #expect(delivered[open].contains(id), "seed \(seed): snapshot \(id) before lane \(open) delivered it")
                    }
                    snapshots.append(id)
                case .aborted: break
                }
            }
            #expect(blocked.isEmpty || handler.isAligning, "seed \(seed): a lane is blocked with no alignment in progress")
            if let aligning = handler.aligning {
                // The exactly-once invariant: a lane that delivered the barrier being aligned
                // delivers nothing more until the snapshot (or an abort).
                for arrivedLane in aligning.arrived {
                    #expect(blocked.contains(arrivedLane), "seed \(seed): lane \(arrivedLane) delivered barrier \(aligning.id) but is not blocked")
                }
            }
        }
        let allDelivered = scripts.allSatisfy { $0.isEmpty }
        #expect(allDelivered, "seed \(seed): lanes \(blocked) stayed blocked with input left")
    }
}
