/// `fault_tolerance.checkpoint_mode`: when a job under `strategy: "checkpoint"` takes
/// checkpoints.
///
/// | mode | checkpoints |
/// |---|---|
/// | `periodic` | every `checkpoint_interval`, and every `checkpoint_every_records` records if set (whichever comes first), on ``LocalEnvironment/triggerCheckpoint()``, and the final one |
/// | `manual` | only on ``LocalEnvironment/triggerCheckpoint()`` and the final one (`checkpoint_interval` is not used and may be 0) |
/// | `disabled` | none; only valid with a strategy that does not recover from checkpoints (`restart`, `none`), where it changes nothing |
public enum CheckpointMode: String, Sendable, Hashable, CaseIterable {
    case periodic
    case manual
    case disabled
}
