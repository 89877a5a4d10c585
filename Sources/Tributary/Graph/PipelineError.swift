/// A pipeline that cannot run as built, reported by `submit()` before anything runs.
public struct PipelineError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate let name: String
        /// The pipeline has no sink, so nothing it computes would be kept.
        public static let noSink = Code(name: "noSink")
        /// A stream is computed but never consumed by an operator or sink.
        public static let unconsumedStream = Code(name: "unconsumedStream")
        /// The graph has a cycle.
        public static let cycle = Code(name: "cycle")
        /// A stream of one environment was used in another.
        public static let foreignStream = Code(name: "foreignStream")
        /// `parallelism(_:)` was given a value that is not allowed there.
        public static let invalidParallelism = Code(name: "invalidParallelism")
        /// `named(_:)` was given an empty, reused or unusable name.
        public static let invalidName = Code(name: "invalidName")
        /// An operator's settings are out of range (e.g. `mapAsync(maxConcurrency: 0)`).
        public static let invalidArgument = Code(name: "invalidArgument")
        /// `submit()` was called while the environment is already running a job.
        public static let alreadyRunning = Code(name: "alreadyRunning")
        /// The `job_id` names a job that already completed; nothing is left to resume.
        public static let jobAlreadyCompleted = Code(name: "jobAlreadyCompleted")
        public var description: String { name }
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
