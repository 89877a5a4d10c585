/// What travels on an edge between two operator instances, in order: batches of records and
/// control messages. Keeping control in-band is what lets end-of-stream (and, with checkpoints,
/// barriers) separate exactly the records before it from the records after it.
@usableFromInline
enum Message<Element: Sendable>: Sendable {
    case batch([Element])
    /// A batch routed by key, with each record's key hash as the keyed state table computes it
    /// (the router had to compute it), so the keyed operator does not hash the key again.
    case keyedBatch([Element], hashes: [UInt])
    /// Checkpoint barrier n: every record before it belongs to checkpoint n's state.
    case barrier(Int64)
    /// The sender's watermark: no record older than it follows on this lane (in event time).
    case watermark(Duration)
    /// The sender is idle: it holds back no watermark until its next watermark or records.
    case idle
    case endOfStream
}
