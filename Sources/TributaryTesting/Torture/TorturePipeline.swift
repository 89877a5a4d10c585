/// The shape of one generated pipeline: sources, an optional union, a shared prefix of
/// operators, one or two branches (fan-out), each a chain of operators ending in sinks.
/// Every operator is deterministic given its record (keyed state and the counter operator's
/// state are per key), and named from its position, so a resumed job finds its state.
public struct TorturePipeline: Sendable, CustomStringConvertible {
    public enum SourceKind: String, Sendable { case generator, collection, file }

    public struct SourceSpec: Sendable {
        public var kind: SourceKind
        public var count: Int
        /// How many keys this source's records spread over.
        public var keys: Int
        /// The source's name (and prefix of its key and origin numbers).
        public var index: Int

        /// Record `position` of this source.
        public func record(_ position: Int) -> TortureRecord {
            let origin = index * 1_000_000 + position
            return TortureRecord(key: index * 1_000 + position % keys, origin: origin, value: origin)
        }

        public var name: String { "src\(index)" }
    }

    public enum Operation: Sendable, Hashable {
        /// `value * multiplier + offset` (multiplier odd: distinct values stay distinct).
        case map(multiplier: Int, offset: Int)
        /// Keeps records whose `value % modulus != remainder`.
        case filter(modulus: Int, remainder: Int)
        /// Each record becomes `copies` records, `value * copies + i`.
        case flatMap(copies: Int)
        /// `keyBy(key).reduce`: the running sum of the key's values.
        case reduce(parallelism: Int)
        /// `keyBy(key).mapWithState`: the key's count so far, folded into the value.
        case mapWithState(parallelism: Int)
        /// A `MapOperator` that is a `CheckpointableOperator`: per-key counters in `self`.
        case counter
        /// `keyBy(key).process`: one or two records per input, and event-time timers (set,
        /// re-set and deleted by the records) that emit the key's count when the input ends.
        case process(parallelism: Int)
    }

    /// How a stage's supervision policy differs from the environment's default.
    public enum Policy: Sendable, Hashable, CustomStringConvertible {
        case restart(maxAttempts: Int)
        case escalate
        case restoreCheckpoint
        /// Fails the job on the first failure: only in plans meant to fail.
        case stop

        public var description: String {
            switch self {
            case .restart(let attempts): "restart(max \(attempts))"
            case .escalate: "escalate"
            case .restoreCheckpoint: "restoreCheckpoint"
            case .stop: "stop"
            }
        }
    }

    public struct Stage: Sendable {
        public var name: String
        public var operation: Operation
        public var policy: Policy?
    }

    /// `asyncFile`: the file through an ``AsyncSink`` whose every call suspends.
    public enum SinkKind: String, Sendable { case collect, file, asyncFile }

    public struct SinkSpec: Sendable {
        public var name: String
        public var kind: SinkKind
        /// The sink's commit throws this many times (the first commits) before it succeeds.
        public var failingCommits: Int
        public var policy: Policy?
    }

    public struct Branch: Sendable {
        public var stages: [Stage]
        public var sinks: [SinkSpec]
    }

    public var sources: [SourceSpec]
    public var prefix: [Stage]
    public var branches: [Branch]

    /// Every stage, prefix first.
    public var stages: [Stage] { prefix + branches.flatMap(\.stages) }
    public var sinks: [SinkSpec] { branches.flatMap(\.sinks) }

    public var description: String {
        func chain(_ stages: [Stage]) -> String {
            stages.map { stage in
                let policy = stage.policy.map { " [\($0)]" } ?? ""
                return "\(stage.name)=\(stage.operation)\(policy)"
            }.joined(separator: " → ")
        }
        var lines = ["sources: " + sources.map { "\($0.name)=\($0.kind.rawValue)(\($0.count) records, \($0.keys) keys)" }.joined(separator: ", ")]
        if sources.count > 1 { lines.append("union of all sources") }
        if !prefix.isEmpty { lines.append("prefix: " + chain(prefix)) }
        for (index, branch) in branches.enumerated() {
            let sinks = branch.sinks.map { sink in
                "\(sink.name)=\(sink.kind.rawValue)" + (sink.failingCommits > 0 ? " (commit fails \(sink.failingCommits)×)" : "")
                    + (sink.policy.map { " [\($0)]" } ?? "")
            }
            lines.append("branch \(index): " + (branch.stages.isEmpty ? "" : chain(branch.stages) + " → ") + sinks.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
