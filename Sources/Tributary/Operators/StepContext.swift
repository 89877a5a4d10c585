/// What a step is told about the instance it runs in.
@usableFromInline
struct StepContext: Sendable {
    @usableFromInline let jobID: String
    @usableFromInline let nodeID: Int
    @usableFromInline let operatorName: String
    @usableFromInline let instance: Int
    @usableFromInline let parallelism: Int
    @usableFromInline let batchSize: Int
    @usableFromInline let deliversCommits: Bool
    /// `fault_tolerance.operator_timeout`: async calls running longer fail.
    @usableFromInline let operatorTimeout: Duration?
    /// The job clock's time (for circuit breakers).
    @usableFromInline let now: @Sendable () -> Duration
    /// The job's processing time (for processing-time timers).
    @usableFromInline let processingTime: @Sendable () -> Duration
    /// Writes an event to the job's log.
    @usableFromInline let emit: @Sendable (JobEvent) -> Void
    /// Sleeps on the job clock (a manual clock in tests): `mapAsync`'s retry delays.
    @usableFromInline var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
}

/// How a source instance fills batches.
@usableFromInline
struct SourceSettings: Sendable {
    @usableFromInline let batchSize: Int
    @usableFromInline let linger: Duration
}
