/// Internal happenings of a running job that tests observe (never used to make decisions).
enum RuntimeEvent: Sendable, Equatable {
    /// A producer found the lane of `operator`'s instance full and suspended: backpressure.
    case channelFull(operator: String, instance: Int, lane: Int)
}
