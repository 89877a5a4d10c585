import Synchronization

/// Which instances of an operator supervised with failover are down — failed, waiting for their
/// restart, retrying their record — so that the round-robin routing upstream sends their share
/// to the siblings meanwhile (``SupervisionPolicy/failover(_:)``).
///
/// One per failover vertex and attempt, shared by the vertex's instances (which mark themselves)
/// and the emitters of every instance feeding it (which read it once per batch). A batch is
/// routed once and goes to exactly one instance, so rerouting loses and duplicates nothing;
/// barriers and watermarks still go to every instance, the down one included, whose inbox takes
/// them beyond its capacity meanwhile. A batch that finds a down instance's lane full is handed
/// back to its producer (``ReroutedBatch``) to go to a sibling that is up, also one parked there
/// before (when the instance went down, or while every instance was down and a sibling came
/// back), so that no producer stays parked on a down instance while a sibling is up. What a
/// down instance's lanes already hold waits for it (see ``InboxStateMachine``).
@usableFromInline
final class ReplicaHealth: Sendable {
    private let downCount = Atomic<Int>(0)
    private let down: Mutex<[Bool]>
    private let inboxes: [any ClosableInbox]

    init(inboxes: [any ClosableInbox]) {
        self.inboxes = inboxes
        down = Mutex(Array(repeating: false, count: inboxes.count))
    }

    var count: Int { inboxes.count }

    /// Marks `instance` down; returns whether it was up.
    @discardableResult
    func markDown(_ instance: Int) -> Bool {
        let changed = down.withLock { down -> Bool in
            guard instance < down.count, !down[instance] else { return false }
            down[instance] = true
            return true
        }
        guard changed else { return false }
        downCount.add(1, ordering: .sequentiallyConsistent)
        // A producer parked on this inbox sends its batch to a sibling, if one is up (looked
        // at under the inbox's lock, so a sibling coming back meanwhile is not missed).
        inboxes[instance].setOverflow(true, reroute: (self, instance))
        return true
    }

    /// Marks `instance` up again; returns whether it was down.
    @discardableResult
    func markUp(_ instance: Int) -> Bool {
        let changed = down.withLock { down -> Bool in
            guard instance < down.count, down[instance] else { return false }
            down[instance] = false
            return true
        }
        guard changed else { return false }
        inboxes[instance].setOverflow(false, reroute: nil)
        downCount.subtract(1, ordering: .sequentiallyConsistent)
        // Producers that parked on a down sibling while every instance was down send their
        // batches here now. Read after this instance is marked up: a producer parking from now
        // on sees it up and is handed back at once (its inbox checks under its own lock, which
        // this takes after), so none stays parked on a down instance while this one is up.
        let stillDown = down.withLock { down in down.indices.filter { down[$0] } }
        for other in stillDown { inboxes[other].handBackParked() }
        return true
    }

    /// Whether an instance other than `instance` is up. Called under an inbox's lock; takes
    /// only this object's lock, which is never held while an inbox's is taken.
    func hasUp(besides instance: Int) -> Bool {
        down.withLock { down in down.indices.contains { $0 != instance && !down[$0] } }
    }

    /// The instance to send the next batch to: `preferred` when it is up, else the next one up
    /// after it, else (every instance down) `preferred`, whose inbox queues it.
    @inline(__always)
    func target(preferring preferred: Int) -> Int {
        guard downCount.load(ordering: .relaxed) > 0 else { return preferred }
        return down.withLock { down in
            for offset in 0..<down.count {
                let candidate = (preferred + offset) % down.count
                if !down[candidate] { return candidate }
            }
            return preferred
        }
    }
}
