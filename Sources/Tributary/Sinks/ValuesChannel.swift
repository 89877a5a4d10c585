import Synchronization

/// The buffer between a ``DataStream/values`` sink and the app iterating it.
///
/// Records reach the app once they are final: at once without checkpoints, when their
/// checkpoint completes with them (the two-phase commit of every sink: staged per instance,
/// sealed at the barrier, released by the commit, dropped by a restore). Backpressure: a write
/// waits while `capacity` released records wait for the app, so a slow app slows the job and
/// memory stays bounded by `capacity` plus one batch per instance (plus, with checkpoints, what
/// one checkpoint interval stages). A write never waits on records that are not released yet,
/// so it cannot hold back the barrier that would release them.
final class ValuesChannel<Element: Sendable>: Sendable {
    private struct State {
        var ready = RingBuffer<Element>()
        var staging = EpochStaging<Element>()
        var consumer: (id: UInt64, continuation: UnsafeContinuation<Element?, any Error>)?
        var nextConsumer: UInt64 = 0
        var producers: [UInt64: UnsafeContinuation<Void, any Error>] = [:]
        var nextProducer: UInt64 = 0
        /// How many runs ended, and how the last one did. An iteration ends at the first run end
        /// after it began, so one begun after a cancelled run waits for the resumed run.
        var endedRuns = 0
        var lastEnd: Result<Void, any Error> = .success(())
        /// Between a run's end and the next run's start: writers do not wait.
        var idle = true
        /// Set when a run completed: the job will not run again, so every iteration, also one
        /// begun afterwards, ends once it took what was released.
        var completed = false
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    // MARK: The sink's side

    /// A run starts: writers wait for the app again.
    func begin() {
        state.withLock { $0.idle = false }
    }

    /// Writers waiting for the app now (for tests: the job is held back).
    var waitingWriters: Int { state.withLock { $0.producers.count } }

    /// Where a new iteration begins: it ends at the first run end after `began`. Begun while
    /// no run is active after one that failed, it ends with that run (its error): `async let
    /// result = env.submit()` followed by the loop must not wait for a run that will not come
    /// when the job failed before the loop began. After a cancelled or stopped run it follows
    /// the next run (the resume).
    var iterationStart: Int {
        state.withLock { state in
            if state.idle, state.endedRuns > 0, case .failure = state.lastEnd { return state.endedRuns - 1 }
            return state.endedRuns
        }
    }

    /// Hands over (`transactional == false`) or stages `records` of sink instance `instance`,
    /// then waits while the app has `capacity` or more records to take.
    /// - Throws: `CancellationError` when the job stops meanwhile.
    nonisolated(nonsending) func write(_ records: [Element], instance: Int, transactional: Bool) async throws {
        let consumer = state.withLock { state -> (UnsafeContinuation<Element?, any Error>, Element)? in
            if transactional {
                state.staging.stage(records, instance: instance)
                return nil
            }
            for record in records { state.ready.append(record) }
            return Self.takeForConsumer(&state)
        }
        if let (continuation, record) = consumer { continuation.resume(returning: record) }
        try await waitForRoom()
    }

    private nonisolated(nonsending) func waitForRoom() async throws {
        // Room at once is the common case: no suspension (each one is a trip through the
        // executor's queue, which under load costs far more than the batch).
        let id = state.withLock { state -> UInt64? in
            if state.ready.count < capacity || state.idle { return nil }
            state.nextProducer += 1
            return state.nextProducer
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let resume = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.ready.count < capacity || state.idle { return .success(()) }
                    state.producers[id] = continuation
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            state.withLock { $0.producers.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Seals what instance `instance` staged since its last seal as `epoch`'s.
    func seal(epoch: Int64, instance: Int) {
        state.withLock { $0.staging.seal(epoch: epoch, instance: instance) }
    }

    /// Releases what was sealed for epochs up to `epoch`, oldest epoch first.
    func commit(upTo epoch: Int64) {
        publish { $0.release(upTo: epoch) }
    }

    /// A run restores checkpoint `epoch` (`nil`: starts afresh): releases what was sealed up to
    /// it and drops what was staged or sealed after it.
    func recover(lastCompleted epoch: Int64?) {
        publish { $0.recover(lastCompleted: epoch) }
    }

    /// Moves the parts `take` returns from the staging to the app.
    private func publish(_ take: (inout EpochStaging<Element>) -> [[Element]]) {
        let consumer = state.withLock { state -> (UnsafeContinuation<Element?, any Error>, Element)? in
            for part in take(&state.staging) {
                for record in part { state.ready.append(record) }
            }
            return Self.takeForConsumer(&state)
        }
        if let (continuation, record) = consumer { continuation.resume(returning: record) }
    }

    /// The run ended: the app takes what was released, then its iteration ends (or throws
    /// `error`). Writers still waiting go on.
    func finish(_ outcome: Result<Void, any Error>, completed: Bool) {
        let (consumer, producers) = state.withLock { state -> (UnsafeContinuation<Element?, any Error>?, [UnsafeContinuation<Void, any Error>]) in
            state.endedRuns += 1
            state.lastEnd = outcome
            state.idle = true
            if completed { state.completed = true }
            state.staging.dropOpen()
            let producers = Array(state.producers.values)
            state.producers = [:]
            guard state.ready.isEmpty, let consumer = state.consumer else { return (nil, producers) }
            state.consumer = nil
            return (consumer.continuation, producers)
        }
        for producer in producers { producer.resume() }
        if let consumer {
            switch outcome {
            case .success: consumer.resume(returning: nil)
            case .failure(let error): consumer.resume(throwing: error)
            }
        }
    }

    // MARK: The app's side

    /// A released record if one is there, without waiting: one lock and no suspension per
    /// record (a suspension is a trip through the executor's queue, costly under load).
    func poll() -> Element? {
        let (record, producers) = state.withLock { state -> (Element?, [UnsafeContinuation<Void, any Error>]) in
            guard let record = state.ready.popFirst() else { return (nil, []) }
            return (record, Self.producersWithRoom(&state, capacity: capacity))
        }
        for producer in producers { producer.resume() }
        return record
    }

    /// The next released record, waiting for one; `nil` once a run ended after `began` (the
    /// ended runs when the iteration began) and every released record was taken.
    /// - Throws: the job's error when it failed; `CancellationError` when the iterating task is
    ///   cancelled.
    nonisolated(nonsending) func next(began: Int) async throws -> Element? {
        let id = state.withLock { state -> UInt64 in
            state.nextConsumer += 1
            return state.nextConsumer
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Element?, any Error>) in
                let (result, producers) = state.withLock { state -> (Result<Element?, any Error>?, [UnsafeContinuation<Void, any Error>]) in
                    if let record = state.ready.popFirst() { return (.success(record), Self.producersWithRoom(&state, capacity: capacity)) }
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if state.endedRuns > began || state.completed {
                        switch state.lastEnd {
                        case .success: return (.success(nil), [])
                        case .failure(let error): return (.failure(error), [])
                        }
                    }
                    guard state.consumer == nil else { return (.failure(ConcurrentIterationError()), []) }
                    state.consumer = (id, continuation)
                    return (nil, [])
                }
                for producer in producers { producer.resume() }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            // Only this call's own wait: another iteration's stays.
            state.withLock { state -> UnsafeContinuation<Element?, any Error>? in
                guard let consumer = state.consumer, consumer.id == id else { return nil }
                state.consumer = nil
                return consumer.continuation
            }?.resume(throwing: CancellationError())
        }
    }

    /// A waiting consumer and the record to give it, taken from `ready`.
    private static func takeForConsumer(_ state: inout State) -> (UnsafeContinuation<Element?, any Error>, Element)? {
        guard let consumer = state.consumer, let record = state.ready.popFirst() else { return nil }
        state.consumer = nil
        return (consumer.continuation, record)
    }

    /// The waiting writers, when the app's backlog dropped below the capacity.
    private static func producersWithRoom(_ state: inout State, capacity: Int) -> [UnsafeContinuation<Void, any Error>] {
        guard state.ready.count < capacity, !state.producers.isEmpty else { return [] }
        defer { state.producers = [:] }
        return Array(state.producers.values)
    }
}

/// Two tasks waited on one ``DataStreamValues`` at once. Each record goes to one iteration (two
/// tasks iterating split the records between them), so iterate it from one task and hand
/// records on from there.
public struct ConcurrentIterationError: Error, Sendable, CustomStringConvertible {
    public var description: String {
        "DataStreamValues is being iterated by another task already: iterate a stream's values from one task at a time"
    }
}
