/// The typed form of `config["fault_tolerance"]` (API.md section 4). Every field has the
/// documented default, so `FaultToleranceConfiguration()` is what an empty `fault_tolerance`
/// object means.
public struct FaultToleranceConfiguration: Sendable, Hashable {
    /// `strategy` [`"restart"`].
    public var strategy: FaultToleranceStrategy
    /// `checkpoint_interval`: time between checkpoints [60 s].
    public var checkpointInterval: Duration
    /// `max_recovery_attempts`: job-level recoveries from a checkpoint before the job fails [3].
    public var maxRecoveryAttempts: Int
    /// `checkpoint_dir`: where checkpoints go [`.checkpoints`].
    public var checkpointDirectory: String
    /// `retained_checkpoints`: completed checkpoints kept on disk [3].
    public var retainedCheckpoints: Int
    /// `checkpoint_timeout`: a checkpoint not completed in time is abandoned [600 s].
    public var checkpointTimeout: Duration
    /// `restart_strategy` with its keys [fixed, delay 5 s, 3 attempts].
    public var restartStrategy: RestartStrategy
    /// `seed`: seeds the jitter's random source [random].
    public var seed: UInt64?
    /// `operator_timeout`: one call running longer than this is a failure [none].
    public var operatorTimeout: Duration?
    /// `allow_non_restored_state`: resuming a checkpoint into a graph whose operators differ
    /// restores the operators that match (with an event naming the rest) instead of failing
    /// with ``CheckpointStateMismatchError`` [false].
    public var allowNonRestoredState: Bool = false
    /// `checkpoint_mode`: when checkpoints are taken [`periodic`] (see ``CheckpointMode``).
    public var checkpointMode: CheckpointMode = .periodic
    /// `checkpoint_every_records`: also take a checkpoint once this many records have entered
    /// the sources since the last one started, whichever of it and `checkpoint_interval` comes
    /// first [none].
    public var checkpointEveryRecords: Int?
    /// `verify_writes`: read every state file of a checkpoint back and check its size and
    /// checksum before the checkpoint counts; one that does not match fails the checkpoint
    /// [false].
    public var verifyWrites: Bool = false
    /// Keys that a registered custom strategy understands, passed to its factory unchanged.
    public var customOptions: [String: ConfigValue]

    public init(
        strategy: FaultToleranceStrategy = .restart,
        checkpointInterval: Duration = .seconds(60),
        maxRecoveryAttempts: Int = 3,
        checkpointDirectory: String = ".checkpoints",
        retainedCheckpoints: Int = 3,
        checkpointTimeout: Duration = .seconds(600),
        restartStrategy: RestartStrategy = .fixed(delay: .seconds(5), maxAttempts: 3),
        seed: UInt64? = nil,
        operatorTimeout: Duration? = nil,
        customOptions: [String: ConfigValue] = [:]
    ) {
        self.strategy = strategy
        self.checkpointInterval = checkpointInterval
        self.maxRecoveryAttempts = maxRecoveryAttempts
        self.checkpointDirectory = checkpointDirectory
        self.retainedCheckpoints = retainedCheckpoints
        self.checkpointTimeout = checkpointTimeout
        self.restartStrategy = restartStrategy
        self.seed = seed
        self.operatorTimeout = operatorTimeout
        self.customOptions = customOptions
    }

    /// What a job gets when its configuration has no `fault_tolerance` at all: `"restart"` with
    /// a fixed delay of 0.1 s and at most 3 attempts.
    public static let absentDefault = FaultToleranceConfiguration(
        strategy: .restart, restartStrategy: .fixed(delay: .milliseconds(100), maxAttempts: 3))
}
