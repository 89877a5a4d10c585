import Tributary

/// A `MapOperator` with its own checkpointed state: a counter per key, folded into each
/// record's value. Per key, so its output does not depend on how keys interleave.
///
/// It changes its state *before* it may throw, so a retry that saw the half-applied change
/// would count a record twice: the runtime's promise is that a restart goes on from the state
/// before the failing call.
public struct TortureCounter: MapOperator, CheckpointableOperator {
    public var counts: [Int: Int] = [:]
    let failures: FailureInjector<Int>?

    public init(failures: FailureInjector<Int>?) {
        self.failures = failures
    }

    public mutating func map(_ input: TortureRecord) async throws -> TortureRecord {
        counts[input.key, default: 0] += 1
        try failures?.check(input.origin)
        var output = input
        output.value = input.value &* 3 &+ counts[input.key]!
        return output
    }

    public func snapshotState() throws -> [Int: Int] { counts }

    public mutating func restoreState(_ state: [Int: Int]) throws { counts = state }
}
