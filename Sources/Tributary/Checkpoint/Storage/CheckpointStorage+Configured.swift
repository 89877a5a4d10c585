/// The one place that picks a job's checkpoint storage from its configuration, so a new
/// backend (an object store) is a new file in this folder and a case here.
func makeCheckpointStorage(_ faultTolerance: FaultToleranceConfiguration, jobID: String) -> any CheckpointStorage {
    LocalCheckpointStorage(checkpointDirectory: faultTolerance.checkpointDirectory, jobID: jobID)
}
