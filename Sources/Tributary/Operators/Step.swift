import Foundation

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

    /// A lifecycle call (start, finish, restart) on the instance's executor.
    @usableFromInline
    typealias Hook = nonisolated(nonsending) () async throws -> Void

    @usableFromInline
    enum Body {
        case sync(SyncBody)
        case async(AsyncBody)
    }

    let nodeID: Int
    let name: String
    let body: Body
    /// Called once when the chain is built, before any record: an ``AsyncSink`` makes its
    /// first writer here (a throw means the operator could not start).
    let start: Hook?
    /// Called once when the chain's input ends: sinks flush and close here.
    let finish: Hook
    /// Replaces the operator's instance with a fresh one from its factory (a no-op for
    /// closures, which hold no instance state; keyed state is never touched).
    let restart: Hook
    /// The operator's state at a barrier (`nil` result: stateless); for sinks, seals the epoch.
    /// Async because an ``AsyncSinkWriter`` seals with an `await`; it runs on the instance's
    /// executor like the body.
    let snapshot: (nonisolated(nonsending) (_ epoch: Int64) async throws -> SnapshotPart?)?
    /// Restores the operator's state from a checkpoint: the parts of every instance, by instance.
    let restore: ((_ parts: [Int: [UInt8]], _ instance: Int, _ parallelism: Int) throws -> Void)?
    /// The operator's timers, when it has any.
    let timers: StepTimers?
    /// Called once when the input has ended, before the final checkpoint: the operator emits
    /// what it held back (fires its event-time timers) into its output buffer.
    let endOfInput: (() -> StepOutcome)?
    /// For operators with event-time timers: the watermark advanced to the given time; fires
    /// what it passed into the output buffer.
    let advanceWatermark: ((Duration) -> StepOutcome)?
    /// For ``DataStream/withTimestamps(_:watermarks:)``: the watermark it makes (watermarks
    /// from upstream stop here).
    let watermarkGenerator: WatermarkGenerator?
    /// For window operators: records left out because they came after their windows closed.
    let lateRecordsDropped: (() -> Int)?
    var recordsIn = 0
    var recordsOut = 0
    /// Records this instance received before the checkpoint it was restored from, so record
    /// positions (in failures, dead letters and fault injection) count from the job's start.
    var ordinalOffset = 0
    /// The position of the next input record in this instance's input since the job started.
    var ordinal: Int { ordinalOffset + recordsIn }
    /// Set when `fault_injection` names this operator; then `input` must be set too.
    var injector: StepInjector?
    /// Typed access to the input buffer, for fault injection: its count, a record's text, and
    /// cutting it at a position (returning how to put it back).
    var input: (count: () -> Int, describe: (Int) -> String, cut: (Int) -> () -> Void)?

    @usableFromInline
    init(
        nodeID: Int, name: String, body: Body, start: Hook? = nil, finish: @escaping Hook = {}, restart: @escaping Hook = {},
        snapshot: (nonisolated(nonsending) (Int64) async throws -> SnapshotPart?)? = nil, restore: (([Int: [UInt8]], Int, Int) throws -> Void)? = nil,
        timers: StepTimers? = nil, endOfInput: (() -> StepOutcome)? = nil, advanceWatermark: ((Duration) -> StepOutcome)? = nil,
        watermarkGenerator: WatermarkGenerator? = nil, lateRecordsDropped: (() -> Int)? = nil
    ) {
        self.advanceWatermark = advanceWatermark
        self.watermarkGenerator = watermarkGenerator
        self.lateRecordsDropped = lateRecordsDropped
        self.nodeID = nodeID
        self.name = name
        self.body = body
        self.start = start
        self.finish = finish
        self.restart = restart
        self.snapshot = snapshot
        self.restore = restore
        self.timers = timers
        self.endOfInput = endOfInput
    }

    nonisolated(nonsending) func run(from start: Int) async -> StepOutcome {
        guard let injector, let input else { return await runBody(from: start) }
        let ordinalAtStart = recordsIn
        var position = start
        while true {
            let count = input.count()
            guard let hit = injector.state.firstHit(operatorName: injector.operatorName, instance: injector.instance, ordinal: ordinal, count: count - position) else {
                return await runBody(from: position)
            }
            let at = position + hit.offset
            if at > position {
                // Process the records before the injected one, then put the rest back.
                let restore = input.cut(at)
                let outcome = await runBody(from: position)
                restore()
                if case .failed(let index, _, let recordsOut, let error, let record) = outcome {
                    return .failed(index: index, recordsIn: recordsIn - ordinalAtStart, recordsOut: recordsOut, error: error, record: record)
                }
            }
            switch hit.rule.kind {
            case .hang, .slow:
                try? await injector.clock.sleep(for: hit.rule.duration ?? .zero)
                position = at
            case .crashProcess:
                FileHandle.standardError.write(Data("tributary: fault injection ends the process in '\(name)' on record #\(hit.ordinal)\n".utf8))
                kill(getpid(), SIGKILL)
                position = at
            default:
                return .failed(
                    index: at, recordsIn: recordsIn - ordinalAtStart, recordsOut: 0,
                    error: InjectedFault(operatorName: name, record: hit.ordinal), record: input.describe(at))
            }
        }
    }

    private nonisolated(nonsending) func runBody(from start: Int) async -> StepOutcome {
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
    @usableFromInline var timers: StepTimers?
    @usableFromInline var endOfInput: (() -> StepOutcome)?
    @usableFromInline var advanceWatermark: ((Duration) -> StepOutcome)?
    @usableFromInline var watermarkGenerator: WatermarkGenerator?
    @usableFromInline var lateRecordsDropped: (() -> Int)?

    @usableFromInline
    init(
        body: Step.Body, restart: @escaping () throws -> Void = {}, snapshot: ((Int64) throws -> SnapshotPart?)? = nil,
        restore: (([Int: [UInt8]], Int, Int) throws -> Void)? = nil, timers: StepTimers? = nil, endOfInput: (() -> StepOutcome)? = nil,
        advanceWatermark: ((Duration) -> StepOutcome)? = nil, watermarkGenerator: WatermarkGenerator? = nil,
        lateRecordsDropped: (() -> Int)? = nil
    ) {
        self.advanceWatermark = advanceWatermark
        self.watermarkGenerator = watermarkGenerator
        self.lateRecordsDropped = lateRecordsDropped
        self.body = body
        self.restart = restart
        self.snapshot = snapshot
        self.restore = restore
        self.timers = timers
        self.endOfInput = endOfInput
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
