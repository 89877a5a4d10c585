/// What a keyed process function sees for one record or one fired timer: the key, the key's
/// state, a place to emit records, and the key's timers.
///
/// Everything done through the context takes effect only when the call returns: a call that
/// throws leaves the key's state, its timers and the output exactly as they were. (For a
/// `State` that is a value type; an object the state refers to and the call changed in place
/// cannot be put back.)
public struct KeyedProcessContext<Key: Hashable & Sendable, State, Output> {
    /// The key of the record or timer being handled.
    public let key: Key
    /// The key's state: the `initial` value for a key seen for the first time (or after
    /// ``clearState()``).
    public var state: State {
        get { stateValue }
        set {
            stateValue = newValue
            written = true
            cleared = false
        }
        // In place, so `context.state.items.append(x)` does not copy the array.
        _modify {
            written = true
            cleared = false
            yield &stateValue
        }
    }
    /// This key's timers.
    public var timers: KeyedTimers
    @usableFromInline var stateValue: State
    @usableFromInline var cleared = false
    /// Whether the call set the state: a key whose state is only read is not stored (a
    /// cleared key stays gone when a later call merely looks at it).
    @usableFromInline var written = false
    @usableFromInline var outputs: [Output]
    /// What the call sent to side outputs, in order: tag name, the tag's value type, value.
    @usableFromInline var sideRecords: [(tag: String, type: ObjectIdentifier, value: any Sendable)] = []
    @usableFromInline let initial: State
    @usableFromInline let clock: @Sendable () -> Duration
    /// The instance's event-time watermark when the call began: `nil` until a watermark
    /// arrived (see ``DataStream/withTimestamps(_:watermarks:)``). Event-time timers at or
    /// before it have fired; a record whose event time is at or before it is late.
    public let currentWatermark: Duration?

    @inlinable
    init(
        key: Key, state: State, initial: State, outputs: [Output], timers: KeyedTimers, clock: @escaping @Sendable () -> Duration,
        watermark: Duration?
    ) {
        self.currentWatermark = watermark
        self.key = key
        self.stateValue = state
        self.initial = initial
        self.outputs = outputs
        self.timers = timers
        self.clock = clock
    }

    /// Emits a record downstream (any number per call).
    @inlinable
    public mutating func emit(_ record: Output) {
        outputs.append(record)
    }

    /// Sends `value` to the side output `tag`: a record of the stream
    /// ``DataStream/sideOutput(_:)`` returns for `tag` on this function's main stream, with the
    /// same exactly-once guarantee as ``emit(_:)``.
    ///
    /// The function must declare `tag` in ``KeyedStream/process(initial:sideOutputs:_:onTimer:)``:
    /// a call that sends to a tag it did not declare fails with an error that names the tag,
    /// and, like any call that fails, changes nothing.
    @inlinable
    public mutating func output<Value: Sendable>(_ tag: OutputTag<Value>, _ value: Value) {
        sideRecords.append((tag.name, ObjectIdentifier(Value.self), value))
    }

    /// Forgets the key's state: it no longer takes space, and ``state`` reads `initial` again.
    /// Setting ``state`` afterwards keeps the new value.
    @inlinable
    public mutating func clearState() {
        stateValue = initial
        cleared = true
        written = false
    }

    /// The job's processing time now (see ``TimeDomain/processingTime``).
    public var currentProcessingTime: Duration { clock() }
}

/// The timers of one key, as a keyed process function changes them. Registering a time
/// already registered (in the same domain) does nothing; deleting one not registered does
/// nothing.
public struct KeyedTimers {
    @usableFromInline
    enum Change {
        case register(Duration, TimeDomain)
        case delete(Duration, TimeDomain)
    }

    @usableFromInline var changes: [Change]

    @inlinable
    init(changes: [Change]) {
        self.changes = changes
    }

    /// Fires ``KeyedStream/process(initial:_:onTimer:)``'s `onTimer` for this key at `time`.
    /// A processing-time timer whose time has passed fires at the next opportunity.
    @inlinable
    public mutating func register(at time: Duration, _ domain: TimeDomain = .eventTime) {
        changes.append(.register(time, domain))
    }

    /// Removes this key's timer at `time`, if it is pending.
    @inlinable
    public mutating func delete(at time: Duration, _ domain: TimeDomain = .eventTime) {
        changes.append(.delete(time, domain))
    }
}
