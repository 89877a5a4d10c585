import Synchronization

/// The circuit breaker of one `mapAsync` instance: its state machine, the clock, and the event
/// log for its transitions. Lives as long as the instance's step (across restarts).
@usableFromInline
final class CircuitBreakerGate {
    private var machine: CircuitBreakerStateMachine
    private let context: StepContext

    @usableFromInline
    init(_ breaker: CircuitBreaker, context: StepContext) {
        machine = CircuitBreakerStateMachine(breaker)
        self.context = context
    }

    func permit() -> CircuitBreakerStateMachine.Permission {
        let (permission, transition) = machine.permit(at: context.now())
        report(transition)
        return permission
    }

    func record<Value>(_ result: Result<Value, any Error>) {
        switch result {
        case .success: report(machine.succeeded())
        case .failure: report(machine.failed(at: context.now()))
        }
    }

    func probeAbandoned() {
        machine.probeAbandoned(at: context.now())
    }

    func openError(retryAfter: Duration) -> CircuitOpenError {
        CircuitOpenError(retryAfter: retryAfter, deadLetter: machine.breaker.whenOpen == .deadLetter)
    }

    private func report(_ transition: CircuitBreakerStateMachine.Transition) {
        let event: (JobEvent.Kind, String)
        switch transition {
        case .none: return
        case .opened: event = (.circuitOpened, "circuit opened: no calls for \(machine.breaker.coolDown.seconds) s")
        case .halfOpened: event = (.circuitHalfOpen, "circuit half-open: one probe call")
        case .closed: event = (.circuitClosed, "circuit closed: the probe call succeeded")
        }
        context.emit(JobEvent(kind: event.0, jobID: context.jobID, operatorName: context.operatorName, instance: context.instance, message: event.1))
    }
}
