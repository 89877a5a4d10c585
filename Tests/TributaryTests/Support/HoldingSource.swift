import Foundation
import Synchronization
import Tributary

/// A replayable source of the integers `0..<count` that holds at `holdAt` until the test
/// releases it: the instant "a checkpoint waits on a slow source" in a test's hands.
///
/// `blocking` holds inside `read` (the source cannot inject a barrier meanwhile, as a source
/// waiting on a socket); otherwise it returns empty batches (an idle source that still takes
/// part in checkpoints). A blocked read ends at once when its task is cancelled.
struct HoldingSource: Source {
    typealias Element = Int
    let count: Int
    let holdAt: Int
    let blocking: Bool
    /// Opened when the reader reaches `holdAt`.
    let reached = Gate()
    /// Opened by the test to let the reader go on.
    let release = CancellableGate()

    init(count: Int, holdAt: Int, blocking: Bool) {
        self.count = count
        self.holdAt = holdAt
        self.blocking = blocking
    }

    func makeReader(startingAt position: Int?) throws -> Reader {
        Reader(source: self, position: position ?? 0)
    }

    struct Reader: SourceReader {
        let source: HoldingSource
        var position: Int

        mutating func read(into buffer: inout [Int], limit: ReadLimit) async throws -> Bool {
            if position == source.holdAt, !source.release.isOpen {
                source.reached.open()
                if source.blocking {
                    try await source.release.wait()
                } else {
                    // An idle source returns an empty batch at once (the source loop yields
                    // before reading again), so it still takes part in checkpoints.
                    return true
                }
            }
            let end = min(source.count, position + limit.maxCount, position < source.holdAt ? source.holdAt : Int.max)
            buffer.append(contentsOf: position..<end)
            position = end
            return position < source.count
        }
    }
}

/// A latch whose waiters end with `CancellationError` when their task is cancelled.
final class CancellableGate: Sendable {
    private struct State {
        var open = false
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.open } }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Bool? in
                    if state.open { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = continuation
                    return nil
                }
                switch outcome {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
