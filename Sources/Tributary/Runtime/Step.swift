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
    /// The operator's state at a barrier (`nil` result: stateless); for sinks, seals the epoch.
    let snapshot: ((_ epoch: Int64) throws -> SnapshotPart?)?
    /// Restores the operator's state from a checkpoint: the parts of every instance, by instance.
    let restore: ((_ parts: [Int: [UInt8]], _ instance: Int, _ parallelism: Int) throws -> Void)?
    var recordsIn = 0
    var recordsOut = 0

    @usableFromInline
    init(
        nodeID: Int, name: String, body: Body, finish: @escaping () throws -> Void = {}, restart: @escaping () throws -> Void = {},
        snapshot: ((Int64) throws -> SnapshotPart?)? = nil, restore: (([Int: [UInt8]], Int, Int) throws -> Void)? = nil
    ) {
        self.nodeID = nodeID
        self.name = name
        self.body = body
        self.finish = finish
        self.restart = restart
        self.snapshot = snapshot
        self.restore = restore
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

/// What a builder method provides for one instance of its operator.
@usableFromInline
struct StepParts {
    @usableFromInline var body: Step.Body
    @usableFromInline var restart: () throws -> Void
    @usableFromInline var snapshot: ((Int64) throws -> SnapshotPart?)?
    @usableFromInline var restore: (([Int: [UInt8]], Int, Int) throws -> Void)?

    @usableFromInline
    init(
        body: Step.Body, restart: @escaping () throws -> Void = {}, snapshot: ((Int64) throws -> SnapshotPart?)? = nil,
        restore: (([Int: [UInt8]], Int, Int) throws -> Void)? = nil
    ) {
        self.body = body
        self.restart = restart
        self.snapshot = snapshot
        self.restore = restore
    }
}

/// One operator's state in a checkpoint: bytes, or a copy of the state (copy-on-write, so
/// taking it costs nothing at the barrier) that the coordinator encodes off the processing path.
@usableFromInline
enum SnapshotPart: Sendable {
    case bytes([UInt8])
    case deferred(@Sendable () throws -> [UInt8])

    func encoded() throws -> [UInt8] {
        switch self {
        case .bytes(let bytes): bytes
        case .deferred(let encode): try encode()
        }
    }
}
