extension DataStream {
    /// The stream's records as an `AsyncSequence`, so a pipeline can feed the rest of an app:
    ///
    /// ```swift
    /// let totals = env.fromSource(orders).keyBy { $0.customer }.reduce(+).values
    /// async let result = env.submit()
    /// for try await total in totals { dashboard.show(total) }
    /// _ = try await result
    /// ```
    ///
    /// Reading it ends the stream in a sink (named `values-N` unless named otherwise through the
    /// graph) in the job's graph, so read it once, before ``LocalEnvironment/submit()``.
    ///
    /// - Records arrive once they are final: at once without checkpoints; with
    ///   `strategy: "checkpoint"`, when the checkpoint that covers them completes, so a record is
    ///   never seen twice, also across restores (exactly-once, like every sink).
    /// - Backpressure: while `bufferCapacity` records (1,024) wait for the app, the job waits
    ///   too; an app that stops iterating stops the job's sink, so iterate it to its end (or
    ///   cancel the job).
    /// - The iteration ends after the last record when the run ends (completed, cancelled or
    ///   stopped) that was running or next to run when the iteration began, and throws the
    ///   job's error when ``LocalEnvironment/submit()`` throws. After a cancel or a stop, a
    ///   new iteration follows the resumed run. One task iterates at a time
    ///   (``ConcurrentIterationError`` otherwise).
    public var values: DataStreamValues<Element> { values(bufferCapacity: 1_024) }

    /// ``values`` with a buffer of `bufferCapacity` records (at least 1; a smaller value fails
    /// `submit()` with a ``PipelineError`` naming it).
    public func values(bufferCapacity: Int) -> DataStreamValues<Element> {
        if bufferCapacity < 1 {
            environment.recordProblem(
                PipelineError(code: .invalidArgument, message: "values(bufferCapacity: \(bufferCapacity)) of '\(name)': the buffer must hold at least 1 record"))
        }
        let channel = ValuesChannel<Element>(capacity: max(1, bufferCapacity))
        _ = environment.addNode(ValuesNode(inputs: [nodeID], channel: channel))
        environment.onRunEnd { outcome in channel.finish(outcome) }
        environment.onRunStart { channel.begin() }
        return DataStreamValues(channel: channel)
    }
}

/// The records of a stream, for `for try await` (see ``DataStream/values``).
public struct DataStreamValues<Element: Sendable>: AsyncSequence, Sendable {
    let channel: ValuesChannel<Element>

    public struct AsyncIterator: AsyncIteratorProtocol {
        let channel: ValuesChannel<Element>
        /// Runs ended before this iteration began: it ends with the next one.
        let began: Int
        /// Records taken from the channel in one go, served from here (reversed: the next is last).
        var taken: [Element] = []

        /// The next record; `nil` when the run ended and every record was taken.
        /// - Throws: the job's error when it failed; `CancellationError` when the iterating
        ///   task is cancelled; ``ConcurrentIterationError`` when another task iterates.
        public mutating func next() async throws -> Element? {
            if taken.isEmpty {
                channel.take(upTo: channel.capacity, into: &taken)
                taken.reverse()
            }
            if let record = taken.popLast() { return record }
            return try await channel.next(began: began)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(channel: channel, began: channel.endedRuns)
    }
}
