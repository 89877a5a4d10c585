/// Wakes an idle instance loop when its earliest processing-time timer is due: one task
/// sleeping on the job clock until that moment, replaced when the earliest timer changes.
///
/// Used only from the loop that owns it.
final class TimerWaker {
    private let clock: JobClock
    private let wake: @Sendable () -> Void
    /// Whether a later deadline leaves an earlier armed one in place (idle deadlines; a timer
    /// deleted before it is due must disarm, so processing-time timers replace).
    private let keepEarlier: Bool
    private var armed: (deadline: Duration, task: Task<Void, Never>)?

    init(clock: JobClock, keepEarlier: Bool = false, wake: @escaping @Sendable () -> Void) {
        self.clock = clock
        self.keepEarlier = keepEarlier
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
        // An earlier wake-up already armed is kept: the loop re-arms when it wakes, and
        // replacing it on every batch (an idle deadline moves with each record) would start a
        // task per batch.
        if keepEarlier, let armed, armed.deadline < deadline, armed.deadline > clock.processingTime { return }
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
