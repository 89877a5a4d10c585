/// Which clock a timer follows.
public enum TimeDomain: String, Sendable, Hashable, Codable {
    /// The stream's event time: the timer fires once the watermark passes its time. Until a
    /// stream carries watermarks, the only watermark is the final one at the end of the input,
    /// which fires every pending event-time timer, in time order — also those the handlers
    /// register meanwhile, each in its place.
    case eventTime
    /// The job's processing time: wall-clock time since 1970 on the default clock, or, with a
    /// clock passed to the environment (a test's manual clock), that clock's time since the
    /// job was submitted (each `submit()` starts again at zero).
    case processingTime
}

/// A timer being fired: when it was set for, and on which clock.
public struct FiredTimer: Sendable, Hashable {
    /// The time the timer was registered for (not the time it fired: a processing-time timer
    /// fires at or after it, an event-time timer once the watermark has passed it).
    public let time: Duration
    /// The clock the timer follows.
    public let domain: TimeDomain

    @inlinable
    public init(time: Duration, domain: TimeDomain) {
        self.time = time
        self.domain = domain
    }
}
