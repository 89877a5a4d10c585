/// One logical operator's work inside a fused chain: reads the batch in its input buffer,
/// appends its results to its output buffer.
///
/// The bodies are closures built by the (inlinable) builder methods, so their per-record loops
/// are specialised for the concrete element types in the caller's module; the chain only calls
/// them once per batch.
@usableFromInline
final class Step {
    @usableFromInline
    typealias SyncBody = (_ start: Int) -> StepOutcome
    @usableFromInline
    typealias AsyncBody = (_ isolation: isolated (any Actor)?, _ start: Int) async -> StepOutcome

    @usableFromInline
    enum Body {
        case sync(SyncBody)
        case async(AsyncBody)
    }

    let nodeID: Int
    let name: String
    let body: Body
    /// Called once when the chain's input ends: sinks flush and close here.
    let finish: () throws -> Void
    /// Replaces the operator's instance with a fresh one from its factory (a no-op for
    /// closures, which hold no instance state; keyed state is never touched).
    let restart: () throws -> Void
    var recordsIn = 0
    var recordsOut = 0

    @usableFromInline
    init(nodeID: Int, name: String, body: Body, finish: @escaping () throws -> Void = {}, restart: @escaping () throws -> Void = {}) {
        self.nodeID = nodeID
        self.name = name
        self.body = body
        self.finish = finish
        self.restart = restart
    }

    nonisolated(nonsending) func run(from start: Int) async -> StepOutcome {
        let outcome: StepOutcome
        switch body {
        case .sync(let body): outcome = body(start)
        case .async(let body): outcome = await body(#isolation, start)
        }
        switch outcome {
        case .completed(let recordsIn, let recordsOut), .failed(_, let recordsIn, let recordsOut, _, _):
            self.recordsIn += recordsIn
            self.recordsOut += recordsOut
        }
        return outcome
    }
}
