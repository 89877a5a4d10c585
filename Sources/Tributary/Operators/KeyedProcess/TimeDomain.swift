/// Which clock a timer follows.
public enum TimeDomain: String, Sendable, Hashable, Codable {
    /// The stream's event time: the timer fires once the watermark passes its time. Until a
    /// stream carries watermarks, the only watermark is the final one at the end of the input,
    /// which fires every pending event-time timer, in time order.
    case eventTime
    /// The job's processing time: wall-clock time since 1970 on the default clock, or the
    /// injected clock's time since the job's environment was made (a test's manual clock).
    case processingTime
}

/// A timer being fired: when it was set for, and on which clock.
public struct FiredTimer: Sendable, Hashable {
    public let time: Duration
    public let domain: TimeDomain

    @inlinable
    public init(time: Duration, domain: TimeDomain) {
        self.time = time
        self.domain = domain
    }
}
