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

    /// Sleeps until `deadline` (processing time) and then wakes the loop; `nil` disarms. A
    /// deadline that has passed wakes the loop at once (also when it equals the one that just
    /// fired: a handler may register a timer at the time being fired).
    func arm(_ deadline: Duration?) {
        guard let deadline else {
            cancel()
            return
        }
        if deadline <= clock.processingTime {
            cancel()
            wake()
            return
        }
        if armed?.deadline == deadline { return }
        armed?.task.cancel()
        let clock = self.clock
        let wake = self.wake
        armed = (deadline, Task {
            do { try await clock.sleep(untilProcessingTime: deadline) } catch { return }
            wake()
        })
    }

    func cancel() {
        armed?.task.cancel()
        armed = nil
    }
}
