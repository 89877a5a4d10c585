/// Wakes an idle instance loop when its earliest processing-time timer is due: one task
/// sleeping on the job clock until that moment, replaced when the earliest timer changes.
///
/// Used only from the loop that owns it.
final class TimerWaker {
    private let clock: JobClock
    private let wake: @Sendable () -> Void
    private var armed: (deadline: Duration, task: Task<Void, Never>)?

    init(clock: JobClock, wake: @escaping @Sendable () -> Void) {
        self.clock = clock
        self.wake = wake
    }

    /// Sleeps until `deadline` (processing time) and then wakes the loop; `nil` disarms.
    func arm(_ deadline: Duration?) {
        if armed?.deadline == deadline { return }
        armed?.task.cancel()
        armed = nil
        guard let deadline else { return }
        let clock = self.clock
        let wake = self.wake
        armed = (deadline, Task {
            let wait = deadline - clock.processingTime
            if wait > .zero {
                do { try await clock.sleep(for: wait) } catch { return }
            }
            wake()
        })
    }

    func cancel() {
        armed?.task.cancel()
        armed = nil
    }
}
