import Synchronization

/// Which instances of an operator supervised with failover are down — failed, waiting for their
/// restart, retrying their record — so that the round-robin routing upstream sends their share
/// to the siblings meanwhile (``SupervisionPolicy/failover(_:)``).
///
/// One per failover vertex and attempt, shared by the vertex's instances (which mark themselves)
/// and the emitters of every instance feeding it (which read it once per batch). A batch is
/// routed once and goes to exactly one instance, so rerouting loses and duplicates nothing;
/// barriers and watermarks still go to every instance, the down one included, whose inbox takes
/// them (and the one batch a producer may have had on its way) beyond its capacity meanwhile,
/// so that no producer waits for it while a sibling is up (see ``InboxStateMachine``).
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
        inboxes[instance].setOverflow(true)
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
        inboxes[instance].setOverflow(false)
        downCount.subtract(1, ordering: .sequentiallyConsistent)
        return true
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
