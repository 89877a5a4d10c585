/// The end of a chain that sends its output to other vertices' inboxes.
@usableFromInline
protocol ChainEmitter: AnyObject {
    /// Sends the records in the chain's output buffer downstream, suspending under backpressure.
    nonisolated(nonsending) func emit() async throws
    /// Sends checkpoint barrier `id` on every outgoing lane, after the pending output.
    nonisolated(nonsending) func barrier(_ id: Int64) async throws
    /// Sends watermark `watermark` on every outgoing lane, after the pending output.
    nonisolated(nonsending) func watermark(_ watermark: Duration) async throws
    /// Tells every outgoing lane this instance is idle.
    nonisolated(nonsending) func idle() async throws
    /// Sends end-of-stream on every outgoing lane.
    nonisolated(nonsending) func finish() async throws
}
