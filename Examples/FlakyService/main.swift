import Synchronization
import Tributary

// Enriches orders by calling a flaky "pricing service" through mapAsync: transient errors are
// retried with exponential backoff, and when the service goes down for a while a circuit
// breaker stops calling it and sends the orders to the dead letters instead of hammering it.

/// A pretend remote service: fails 1 call in 7, and is down for calls 40..<46.
final class PricingService: Sendable {
    private let calls = Atomic<Int>(0)
    struct Unavailable: Error, CustomStringConvertible {
        let call: Int
        var description: String { "pricing service unavailable (call \(call))" }
    }

    func price(of order: Int) async throws -> Double {
        let call = calls.add(1, ordering: .relaxed).newValue
        await Task.yield()  // the network
        if (40..<46).contains(call) || call % 7 == 0 { throw Unavailable(call: call) }
        return Double(order % 100) * 1.25
    }

    var callCount: Int { calls.load(ordering: .relaxed) }
}

let service = PricingService()
let env = try LocalEnvironment("flaky_service", config: [
    "fault_tolerance": [
        "restart_strategy": "exponential", "initial_delay": 0.001, "max_delay": 0.02, "max_attempts": 8, "reset_after": 0.01,
    ],
])
let priced = CollectSink<String>()
env.fromSource(GeneratorSource(count: 120, ratePerSecond: 1_000) { $0 + 1 })  // orders arrive over ~120 ms
    .mapAsync(maxConcurrency: 4, timeout: .seconds(2),
              circuitBreaker: CircuitBreaker(failureThreshold: 5, coolDown: .milliseconds(20), whenOpen: .deadLetter)) { order in
        "order \(order): \(try await service.price(of: order))"
    }
    .named("price")
    .sink(priced)

let events = env.events()
let transitions = Task {
    var seen: [String] = []
    for await event in events where [.circuitOpened, .circuitHalfOpen, .circuitClosed].contains(event.kind) {
        seen.append(event.kind.rawValue)
    }
    return seen
}
let result = try await env.submit()
transitions.cancel()  // ends the event stream's loop; its value is what it saw
print("priced \(priced.values.count) of 120 orders with \(service.callCount) calls; \(result.restarts.count) retries with backoff")
print("dead letters while the circuit was open: \(result.deadLetters.count) (e.g. \(result.deadLetters.first.map { "\($0.record)" } ?? "none"))")
print("circuit breaker: \(await transitions.value.joined(separator: " → "))")
print("every order is either priced or a dead letter: \(priced.values.count + result.deadLetters.count == 120 ? "yes" : "NO")")
