import Synchronization
import Tributary

/// Records a job's events so a test can wait for one ("operator parse restarted, attempt 2")
/// instead of polling or sleeping.
///
/// Create it before `submit()`; it subscribes to ``LocalEnvironment/events()`` at once.
public final class EventRecorder: Sendable {
    private struct State {
        var events: [JobEvent] = []
        var waiters: [(id: UInt64, matches: @Sendable (JobEvent) -> Bool, continuation: CheckedContinuation<JobEvent, Never>)] = []
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())
    private let stream: AsyncStream<JobEvent>

    public init(_ environment: LocalEnvironment) {
        stream = environment.events()
    }

    /// Every event recorded so far, in order.
    public var events: [JobEvent] { state.withLock { $0.events } }

    /// Starts recording; run it in a task beside the job (it ends when the task is cancelled).
    public func record() async {
        for await event in stream {
            let ready = state.withLock { state -> [CheckedContinuation<JobEvent, Never>] in
                state.events.append(event)
                let matching = state.waiters.filter { $0.matches(event) }
                state.waiters.removeAll { $0.matches(event) }
                return matching.map(\.continuation)
            }
            for continuation in ready { continuation.resume(returning: event) }
        }
    }

    /// Returns the first recorded event that matches, waiting for it if it has not happened yet.
    @discardableResult
    public func first(where matches: @escaping @Sendable (JobEvent) -> Bool) async -> JobEvent {
        await withCheckedContinuation { continuation in
            let found = state.withLock { state -> JobEvent? in
                if let event = state.events.first(where: matches) { return event }
                state.nextID += 1
                state.waiters.append((state.nextID, matches, continuation))
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }

    /// Waits for an event of `kind` (of `operatorName`, with `attempt`, when given).
    @discardableResult
    public func wait(for kind: JobEvent.Kind, operator operatorName: String? = nil, attempt: Int? = nil) async -> JobEvent {
        await first { event in
            event.kind == kind && (operatorName == nil || event.operatorName == operatorName)
                && (attempt == nil || event.attempt == attempt)
        }
    }

    /// The recorded events of one kind.
    public func events(_ kind: JobEvent.Kind) -> [JobEvent] {
        events.filter { $0.kind == kind }
    }
}
