import Synchronization

/// What one instance needs to take part in checkpoints: the coordinator, its key and file
/// name, and (when the job was restored) the state to start from.
@usableFromInline
final class CheckpointHooks: Sendable {
    let coordinator: CheckpointCoordinator
    let trigger: CheckpointTrigger
    let key: String
    let fileName: String
    /// The restored checkpoint's parts, by operator name, then instance.
    let restored: RestoredCheckpoint?

    init(coordinator: CheckpointCoordinator, trigger: CheckpointTrigger, key: String, restored: RestoredCheckpoint?) {
        self.coordinator = coordinator
        self.trigger = trigger
        self.key = key
        self.fileName = key + ".state"
        self.restored = restored
    }

    /// The restored source position of `source`, for instance `instance`.
    @usableFromInline
    func restoredPosition(source: String, instance: Int) -> [UInt8]? {
        restored?.parts[source]?[instance]
    }

    /// The latest checkpoint sources are asked to inject.
    @usableFromInline
    var requested: Int64 { trigger.requested }
}

/// The checkpoint id the coordinator asks sources to inject a barrier for, and the newest one
/// it abandoned (instances stop aligning barriers up to it). Read by instances once per batch.
final class CheckpointTrigger: Sendable {
    private let value = Atomic<Int64>(0)
    private let abandonedValue = Atomic<Int64>(0)
    var requested: Int64 { value.load(ordering: .acquiring) }
    func request(_ id: Int64) { value.store(id, ordering: .releasing) }
    /// The newest abandoned checkpoint, `nil` while none was.
    var abandoned: Int64? {
        let id = abandonedValue.load(ordering: .acquiring)
        return id == 0 ? nil : id
    }
    func abandon(upTo id: Int64) { abandonedValue.max(id, ordering: .releasing) }
}
