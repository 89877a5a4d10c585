/// `retention`: which job folders (`work_dir/<job_id>`) and checkpoints a job removes from its
/// work directory when it ends, and `tributary jobs prune` removes by hand.
///
/// | policy | a completed job | a failed, stopped, cancelled or crashed job |
/// |---|---|---|
/// | `keep_all` | kept | kept |
/// | `keep_failed_only` | folder and checkpoints removed | kept |
/// | `cleanup_all` | folder and checkpoints removed | folder removed; the checkpoint it resumes from kept, older ones removed |
///
/// `max_days` treats any job that ended more than that many days ago as `cleanup_all` does;
/// `cleanup_on_success` removes the job that just completed (its folder and checkpoints) whatever
/// the policy. Never removed: a job some process runs now (its lock is held), the newest valid
/// checkpoint of a job that did not complete (submitting its `job_id` again resumes from it),
/// and folders without a readable `job_summary.json` (not known to be a job's). A completed
/// job whose folder was removed no longer counts as completed: its `job_id` runs again from
/// the start.
public struct RetentionConfiguration: Sendable, Hashable {
    /// `retention.policy`.
    public enum Policy: String, Sendable, Hashable, CaseIterable {
        case keepAll = "keep_all"
        case keepFailedOnly = "keep_failed_only"
        case cleanupAll = "cleanup_all"
    }

    /// `policy` [`keep_all`].
    public var policy: Policy
    /// `max_days`: jobs that ended longer ago than this are cleaned up [none].
    public var maxDays: Double?
    /// `cleanup_on_success`: a job that completes removes its own folder and checkpoints [false].
    public var cleanupOnSuccess: Bool

    public init(policy: Policy = .keepAll, maxDays: Double? = nil, cleanupOnSuccess: Bool = false) {
        self.policy = policy
        self.maxDays = maxDays
        self.cleanupOnSuccess = cleanupOnSuccess
    }

    /// Whether this configuration never removes anything (the default).
    public var keepsEverything: Bool { policy == .keepAll && maxDays == nil && !cleanupOnSuccess }
}
