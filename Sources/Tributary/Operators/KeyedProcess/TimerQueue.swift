/// The pending timers of one keyed operator instance, in both time domains: at most one timer
/// per key, time and domain, fired in time order (ties in the order they were registered).
///
/// A timer is pending while its sequence number is in `pending`; the heaps may hold stale
/// entries (deleted or re-registered timers), skipped when they reach the top.
@usableFromInline
struct TimerQueue<Key: Hashable & Codable & Sendable> {
    @usableFromInline
    struct Timer: Hashable, Sendable {
        @usableFromInline let key: Key
        @usableFromInline let time: Duration
        @usableFromInline let domain: TimeDomain

        @inlinable
        init(key: Key, time: Duration, domain: TimeDomain) {
            self.key = key
            self.time = time
            self.domain = domain
        }
    }

    /// A timer as checkpoints hold it.
    @usableFromInline
    struct Entry: Codable, Sendable {
        let key: Key
        let time: Duration
        let domain: TimeDomain
        let sequence: UInt64
    }

    @usableFromInline var pending: [Timer: UInt64] = [:]
    @usableFromInline var eventTime = TimerHeap<Key>()
    @usableFromInline var processingTime = TimerHeap<Key>()
    @usableFromInline var nextSequence: UInt64 = 0

    @inlinable
    init() {}

    @inlinable
    mutating func register(_ timer: Timer) {
        guard pending[timer] == nil else { return }
        nextSequence += 1
        pending[timer] = nextSequence
        push(timer, sequence: nextSequence)
        // Deleted and re-registered timers leave stale nodes that only leave a heap at its
        // top; a job that keeps moving far-off timers would grow it without bound.
        if eventTime.nodes.count + processingTime.nodes.count > 2 * pending.count + 64 { compact() }
    }

    /// Rebuilds both heaps from the pending timers.
    @usableFromInline
    mutating func compact() {
        eventTime = TimerHeap()
        processingTime = TimerHeap()
        for (timer, sequence) in pending { push(timer, sequence: sequence) }
    }

    @inlinable
    mutating func delete(_ timer: Timer) {
        pending[timer] = nil
    }

    @inlinable
    mutating func push(_ timer: Timer, sequence: UInt64) {
        let node = TimerHeap<Key>.Node(time: timer.time, sequence: sequence, key: timer.key)
        switch timer.domain {
        case .eventTime: eventTime.push(node)
        case .processingTime: processingTime.push(node)
        }
    }

    /// The earliest pending timer of `domain` and its sequence number, dropping stale entries
    /// on the way.
    @inlinable
    mutating func peek(_ domain: TimeDomain) -> (timer: Timer, sequence: UInt64)? {
        while true {
            let top: TimerHeap<Key>.Node?
            switch domain {
            case .eventTime: top = eventTime.top
            case .processingTime: top = processingTime.top
            }
            guard let top else { return nil }
            let timer = Timer(key: top.key, time: top.time, domain: domain)
            if pending[timer] == top.sequence { return (timer, top.sequence) }
            switch domain {
            case .eventTime: eventTime.pop()
            case .processingTime: processingTime.pop()
            }
        }
    }

    /// Removes `timer`, which ``peek(_:)`` just returned (before its handler runs, so the
    /// handler can register the same timer again).
    @inlinable
    mutating func removePeeked(_ timer: Timer) {
        pending[timer] = nil
        switch timer.domain {
        case .eventTime: eventTime.pop()
        case .processingTime: processingTime.pop()
        }
    }

    /// Takes `timer`, which ``peek(_:)`` just returned, off its heap but leaves it pending (it
    /// is pushed again later).
    @inlinable
    mutating func popPeeked(_ timer: Timer) {
        switch timer.domain {
        case .eventTime: eventTime.pop()
        case .processingTime: processingTime.pop()
        }
    }

    /// Puts back a timer whose handler failed, in its old place.
    @inlinable
    mutating func reinstate(_ timer: Timer, sequence: UInt64) {
        pending[timer] = sequence
        push(timer, sequence: sequence)
    }

    /// How many timers of `domain` are pending.
    @usableFromInline
    func count(_ domain: TimeDomain) -> Int {
        pending.keys.reduce(0) { $0 + ($1.domain == domain ? 1 : 0) }
    }

    /// The checkpoint's entries of `pending`, in no particular order (each carries its
    /// sequence number, which orders it). Static, so a snapshot takes the pending timers (a
    /// copy-on-write dictionary, free at the barrier) and lists them off the data path. Not
    /// sorted here: a checkpoint is written far more often than restored, and sorting millions
    /// of timers was most of a window operator's checkpoint cost.
    static func entries(_ pending: [Timer: UInt64]) -> [Entry] {
        pending.map { Entry(key: $0.key.key, time: $0.key.time, domain: $0.key.domain, sequence: $0.value) }
    }

    /// Adds checkpointed timers (of any instance) that `keep` selects. Within a part, time and
    /// sequence number order the timers completely; but after a change of parallelism, parts
    /// of several instances can hold timers with equal times and sequence numbers, and the
    /// heap breaks those ties by the order it got them in. So they are pushed in firing order
    /// (domain, time, sequence) whatever order the part lists them in: the ties then fire in an
    /// order fixed by the parts.
    mutating func restore(_ entries: [Entry], keep: (Key) -> Bool) {
        let ordered = entries.filter { keep($0.key) }.sorted { first, second in
            if first.domain != second.domain { return first.domain.rawValue < second.domain.rawValue }
            if first.time != second.time { return first.time < second.time }
            return first.sequence < second.sequence
        }
        for entry in ordered {
            let timer = Timer(key: entry.key, time: entry.time, domain: entry.domain)
            guard pending[timer] == nil else { continue }
            pending[timer] = entry.sequence
            nextSequence = max(nextSequence, entry.sequence)
            push(timer, sequence: entry.sequence)
        }
    }
}

/// A binary min-heap of timers by (time, sequence).
@usableFromInline
struct TimerHeap<Key> {
    @usableFromInline
    struct Node {
        @usableFromInline let time: Duration
        @usableFromInline let sequence: UInt64
        @usableFromInline let key: Key

        @inlinable
        init(time: Duration, sequence: UInt64, key: Key) {
            self.time = time
            self.sequence = sequence
            self.key = key
        }

        @inlinable
        func precedes(_ other: Node) -> Bool {
            time < other.time || (time == other.time && sequence < other.sequence)
        }
    }

    @usableFromInline var nodes: [Node] = []

    @inlinable
    init() {}

    @inlinable
    var top: Node? { nodes.first }

    @inlinable
    mutating func push(_ node: Node) {
        nodes.append(node)
        var child = nodes.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard nodes[child].precedes(nodes[parent]) else { break }
            nodes.swapAt(child, parent)
            child = parent
        }
    }

    @inlinable
    mutating func pop() {
        guard !nodes.isEmpty else { return }
        nodes.swapAt(0, nodes.count - 1)
        nodes.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < nodes.count, nodes[left].precedes(nodes[first]) { first = left }
            if right < nodes.count, nodes[right].precedes(nodes[first]) { first = right }
            if first == parent { return }
            nodes.swapAt(parent, first)
            parent = first
        }
    }
}
