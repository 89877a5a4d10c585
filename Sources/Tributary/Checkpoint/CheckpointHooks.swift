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

    /// `count` records entered a source (for `checkpoint_every_records`).
    @usableFromInline
    func sourced(_ count: Int) { trigger.sourced(count) }
}

/// The checkpoint id the coordinator asks sources to inject a barrier for, and the newest one
/// it abandoned (instances stop aligning barriers up to it). Read by instances once per batch.
final class CheckpointTrigger: Sendable {
    private let value = Atomic<Int64>(0)
    private let abandonedValue = Atomic<Int64>(0)
    private let wakers = Mutex<[@Sendable () -> Void]>([])
    var requested: Int64 { value.load(ordering: .acquiring) }
    /// `checkpoint_every_records` (0: not set).
    let everyRecords: Int
    /// Records that entered the sources since the last checkpoint started.
    private let recordsSince = Atomic<Int>(0)
    /// Wakes the coordinator when `recordsSince` reaches `everyRecords`.
    private let recordsWaker = Mutex<(@Sendable () -> Void)?>(nil)

    init(everyRecords: Int? = nil) {
        self.everyRecords = everyRecords ?? 0
    }

    /// `count` records entered a source: wakes the coordinator when they complete
    /// `checkpoint_every_records` (once per crossing, not per batch after it).
    func sourced(_ count: Int) {
        guard everyRecords > 0, count > 0 else { return }
        let total = recordsSince.wrappingAdd(count, ordering: .relaxed).newValue
        if total >= everyRecords, total - count < everyRecords { recordsWaker.withLock { $0 }?() }
    }

    /// Whether `checkpoint_every_records` records entered the sources since the last checkpoint.
    var recordsDue: Bool { everyRecords > 0 && recordsSince.load(ordering: .relaxed) >= everyRecords }

    /// A checkpoint started: counting starts again (records that enter meanwhile count).
    func checkpointStarted() {
        let seen = recordsSince.load(ordering: .relaxed)
        recordsSince.subtract(seen, ordering: .relaxed)
    }

    /// Calls `wake` whenever the sources complete `checkpoint_every_records` records.
    func onRecordsDue(_ wake: @escaping @Sendable () -> Void) {
        recordsWaker.withLock { $0 = wake }
    }

    /// Asks sources to inject barrier `id`, waking those that wait for input so they can.
    func request(_ id: Int64) {
        value.store(id, ordering: .releasing)
        wakeAll()
    }

    /// Registers a way to wake a waiting source or instance when a checkpoint starts or is
    /// abandoned: an instance blocked on an aligning lane must see an abandon even when its
    /// other inputs are idle.
    func onChange(_ wake: @escaping @Sendable () -> Void) {
        wakers.withLock { $0.append(wake) }
    }

    private func wakeAll() {
        for wake in wakers.withLock({ $0 }) { wake() }
    }
    /// The newest abandoned checkpoint, `nil` while none was.
    var abandoned: Int64? {
        let id = abandonedValue.load(ordering: .acquiring)
        return id == 0 ? nil : id
    }
    func abandon(upTo id: Int64) {
        let (old, _) = abandonedValue.max(id, ordering: .acquiringAndReleasing)
        if id > old { wakeAll() }
    }
}
