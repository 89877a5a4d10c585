/// Protects a service that `mapAsync` calls: after `failureThreshold` consecutive failed calls
/// the circuit *opens* and the operator stops calling for `coolDown`; then one *half-open* probe
/// call decides: success closes the circuit, failure opens it again.
///
/// ```
///  closed ──N consecutive failures──▶ open ──coolDown──▶ half-open ──probe ok──▶ closed
///                                       ▲                    │ probe fails
///                                       └────────────────────┘
/// ```
/// While the circuit is open, records are not sent to the service: with `.deadLetter` they go
/// straight to the job's dead letters; with `.failFast` each fails at once with
/// ``CircuitOpenError`` and the operator's supervision policy applies (its restart delays give
/// the service time). Failed calls while closed are failures like any other (restarted and
/// retried under the policy); the breaker counts them across restarts.
public struct CircuitBreaker: Sendable, Hashable {
    public enum WhenOpen: Sendable, Hashable {
        /// Skip records into the dead letters while open.
        case deadLetter
        /// Fail records at once with ``CircuitOpenError`` while open.
        case failFast
    }

    public var failureThreshold: Int
    public var coolDown: Duration
    public var whenOpen: WhenOpen

    /// Values out of range (a threshold below 1, a negative cool-down) make `submit()` throw a
    /// ``PipelineError`` that names them.
    public init(failureThreshold: Int = 5, coolDown: Duration = .seconds(30), whenOpen: WhenOpen = .failFast) {
        self.failureThreshold = failureThreshold
        self.coolDown = coolDown
        self.whenOpen = whenOpen
    }

    /// What is out of range, if anything, in words.
    @usableFromInline
    var problem: String? {
        if failureThreshold < 1 { return "CircuitBreaker(failureThreshold: \(failureThreshold)) must be at least 1" }
        if coolDown < .zero { return "CircuitBreaker(coolDown: \(coolDown)) must not be negative" }
        return nil
    }
}

/// A record was not sent to the service because the circuit breaker is open.
public struct CircuitOpenError: Error, Sendable, CustomStringConvertible {
    /// When the circuit will let a probe call through, in the job clock's time.
    public let retryAfter: Duration
    let deadLetter: Bool
    public var description: String { "the circuit breaker is open; the service is not called for now" }
}

/// The decisions of a ``CircuitBreaker``. Pure state; times come from the job's clock.
struct CircuitBreakerStateMachine {
    enum State: Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Duration)
        /// One probe call is in flight.
        case halfOpen
    }

    enum Permission: Equatable {
        case call
        /// The one call that decides whether the circuit closes.
        case probe
        case reject(retryAfter: Duration)
        /// Half-open with the probe in flight: wait for its result before deciding.
        case wait
    }

    enum Transition: Equatable {
        case none, opened, halfOpened, closed
    }

    let breaker: CircuitBreaker
    private(set) var state = State.closed(consecutiveFailures: 0)

    init(_ breaker: CircuitBreaker) {
        self.breaker = breaker
    }

    mutating func permit(at now: Duration) -> (Permission, Transition) {
        switch state {
        case .closed:
            return (.call, .none)
        case .open(let until):
            guard now >= until else { return (.reject(retryAfter: until), .none) }
            state = .halfOpen
            return (.probe, .halfOpened)
        case .halfOpen:
            return (.wait, .none)
        }
    }

    mutating func succeeded() -> Transition {
        switch state {
        case .closed:
            state = .closed(consecutiveFailures: 0)
            return .none
        case .halfOpen:
            state = .closed(consecutiveFailures: 0)
            return .closed
        case .open:
            // A call that started before the circuit opened: it does not close it.
            return .none
        }
    }

    /// The probe call ended without a result (an earlier record failed first and its batch's
    /// calls were cancelled): the cool-down has been served, so the next permit sends a new
    /// probe. Without this the breaker would wait for a result that never comes.
    mutating func probeAbandoned(at now: Duration) {
        if state == .halfOpen { state = .open(until: now) }
    }

    mutating func failed(at now: Duration) -> Transition {
        switch state {
        case .closed(let failures):
            if failures + 1 >= breaker.failureThreshold {
                state = .open(until: now + breaker.coolDown)
                return .opened
            }
            state = .closed(consecutiveFailures: failures + 1)
            return .none
        case .halfOpen:
            state = .open(until: now + breaker.coolDown)
            return .opened
        case .open:
            return .none
        }
    }
}
