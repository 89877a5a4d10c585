import Synchronization
import Tributary

/// A stand-in for a transactional remote store behind an ``AsyncSink``: records are staged per
/// instance, sealed per epoch, and published by a commit; every call suspends (an actor hop).
/// It counts every call and fails or holds the calls a test names.
actor Ledger {
    struct Calls: Sendable {
        var makeWriter = 0
        var write = 0
        var preCommit = 0
        var commit = 0
        var recover = 0
        var close = 0
    }

    /// Calls to fail, by kind and 1-based call number.
    struct Faults: Sendable {
        var makeWriter: Set<Int> = []
        var write: Set<Int> = []
        var preCommit: Set<Int> = []
        var commit: Set<Int> = []
        /// Every commit from this call on fails.
        var commitsFrom: Int?
        /// Writes that throw `CancellationError` of their own (the task is not cancelled).
        var cancellationErrorOnWrite: Set<Int> = []
    }

    /// A call that waits for ``release`` (opening ``reached`` first); a cancelled task leaves
    /// the wait with `CancellationError`.
    enum Hold: Equatable, Sendable {
        case preCommit(call: Int)
        case close(call: Int)
        case makeWriter(call: Int)
        case commit(call: Int)
    }

    private let hold: Hold?
    nonisolated let reached = Gate()
    nonisolated let release = CancellableGate()

    private(set) var calls = Calls()
    private var faults: Faults
    /// Staged since the instance's last seal.
    private var open: [Int: [Int]] = [:]
    /// Sealed, not yet published, by epoch and instance.
    private var sealed: [Int64: [Int: [Int]]] = [:]
    /// What a reader of the store sees.
    private(set) var published: [Int] = []

    init(faults: Faults = Faults(), hold: Hold? = nil) {
        self.faults = faults
        self.hold = hold
    }

    private func wait(at call: Hold) async throws {
        guard call == hold, !release.isOpen else { return }
        reached.open()
        try await release.wait()
    }

    private static func check(_ set: Set<Int>, _ call: Int, _ what: String) throws {
        if set.contains(call) { throw InjectedError("ledger \(what) #\(call)") }
    }

    func madeWriter() async throws {
        calls.makeWriter += 1
        let call = calls.makeWriter
        try await wait(at: .makeWriter(call: call))
        try Self.check(faults.makeWriter, call, "makeWriter")
    }

    func write(_ records: [Int], instance: Int, transactional: Bool) throws {
        calls.write += 1
        try Self.check(faults.write, calls.write, "write")
        if faults.cancellationErrorOnWrite.contains(calls.write) { throw CancellationError() }
        if transactional {
            open[instance, default: []].append(contentsOf: records)
        } else {
            published.append(contentsOf: records)
        }
    }

    func seal(epoch: Int64, instance: Int) async throws {
        calls.preCommit += 1
        let call = calls.preCommit
        try await wait(at: .preCommit(call: call))
        try Self.check(faults.preCommit, call, "preCommit")
        sealed[epoch, default: [:]][instance, default: []].append(contentsOf: open.removeValue(forKey: instance) ?? [])
    }

    func commit(upTo epoch: Int64) async throws {
        calls.commit += 1
        let call = calls.commit
        try await wait(at: .commit(call: call))
        try Self.check(faults.commit, call, "commit")
        if let from = faults.commitsFrom, call >= from { throw InjectedError("ledger commit #\(call)") }
        publish(upTo: epoch)
    }

    func recover(lastCompleted epoch: Int64?) {
        calls.recover += 1
        if let epoch { publish(upTo: epoch) }
        sealed = [:]
        open = [:]
    }

    func closed() async throws {
        calls.close += 1
        try await wait(at: .close(call: calls.close))
    }

    private func publish(upTo epoch: Int64) {
        for id in sealed.keys.sorted() where id <= epoch {
            for instance in (sealed[id] ?? [:]).keys.sorted() { published.append(contentsOf: sealed[id]?[instance] ?? []) }
            sealed[id] = nil
        }
    }
}

/// An ``AsyncSink`` into a ``Ledger``; a write holding `holdAt` waits for `release` first
/// (opening `reached`), which a cancelled task leaves with `CancellationError`.
struct LedgerSink: AsyncSink {
    let ledger: Ledger
    var holdAt: Int?
    let reached = Gate()
    let release = CancellableGate()

    init(_ ledger: Ledger, holdAt: Int? = nil) {
        self.ledger = ledger
        self.holdAt = holdAt
    }

    func makeWriter(_ context: SinkContext) async throws -> Writer {
        try await ledger.madeWriter()
        return Writer(sink: self, instance: context.instance, transactional: context.deliversCommits)
    }

    func commit(upTo epoch: Int64, context: SinkContext) async throws {
        try await ledger.commit(upTo: epoch)
    }

    func recover(lastCompleted epoch: Int64?, context: SinkContext) async throws {
        await ledger.recover(lastCompleted: epoch)
    }

    struct Writer: AsyncSinkWriter {
        let sink: LedgerSink
        let instance: Int
        let transactional: Bool

        mutating func write(_ records: [Int]) async throws {
            if let hold = sink.holdAt, records.contains(hold), !sink.release.isOpen {
                sink.reached.open()
                try await sink.release.wait()
            }
            try await sink.ledger.write(records, instance: instance, transactional: transactional)
        }

        mutating func preCommit(epoch: Int64) async throws {
            try await sink.ledger.seal(epoch: epoch, instance: instance)
        }

        mutating func close() async throws {
            try await sink.ledger.closed()
        }
    }
}
