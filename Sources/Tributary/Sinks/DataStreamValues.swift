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
    /// The first read ends the stream in a sink (`values-N`) in the job's graph, so read it
    /// before ``LocalEnvironment/submit()``; reading it again gives the same sequence.
    ///
    /// - Records arrive once they are final: at once without checkpoints; with
    ///   `strategy: "checkpoint"`, when the checkpoint that covers them completes, so a record is
    ///   never seen twice, also across restores (exactly-once, like every sink).
    /// - Backpressure: while `bufferCapacity` records (1,024) wait for the app, the job waits
    ///   too; an app that stops iterating stops the job's sink, so iterate it to its end (or
    ///   cancel the job).
    /// - The iteration ends after the last record when the run ends (completed, cancelled or
    ///   stopped) that was running or next to run when the iteration began, and throws the
    ///   job's error when ``LocalEnvironment/submit()`` throws (also when the loop began after
    ///   the failure). After a cancel or a stop, a new iteration follows the resumed run; after
    ///   the job completed, a new iteration takes what is left and ends. Do not wait inside the loop for the job to move on (a
    ///   checkpoint, the end of `submit()`): with the buffer full, it waits for you. One task
    ///   iterates at a time
    ///   (``ConcurrentIterationError`` otherwise).
    public var values: DataStreamValues<Element> { values(bufferCapacity: 1_024) }

    /// ``values`` with a buffer of `bufferCapacity` records (at least 1; a smaller value fails
    /// `submit()` with a ``PipelineError`` naming it).
    public func values(bufferCapacity: Int) -> DataStreamValues<Element> {
        if bufferCapacity < 1 {
            environment.recordProblem(
                PipelineError(code: .invalidArgument, message: "values(bufferCapacity: \(bufferCapacity)) of '\(name)': the buffer must hold at least 1 record"))
        }
        // One sink per stream: reading `values` again gives the same sequence (a second sink
        // nobody iterates would hold the job back, and change the pipeline a resume expects).
        let channel = environment.valuesChannel(of: nodeID) {
            let channel = ValuesChannel<Element>(capacity: max(1, bufferCapacity))
            _ = environment.addNode(ValuesNode(inputs: [nodeID], channel: channel))
            environment.onRunEnd { outcome in channel.finish(outcome.map { _ in () }, completed: (try? outcome.get()) == .completed) }
            environment.onRunStart { channel.begin() }
            return channel
        }
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

        /// The next record; `nil` when the run ended and every record was taken.
        /// - Throws: the job's error when it failed; `CancellationError` when the iterating
        ///   task is cancelled; ``ConcurrentIterationError`` when another task waits too.
        public mutating func next() async throws -> Element? {
            if let record = channel.poll() { return record }
            return try await channel.next(began: began)
        }

        /// ``next()`` without leaving the caller's actor (a `@MainActor` loop does not hop per
        /// record).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Element? {
            if let record = channel.poll() { return record }
            return try await channel.next(began: began)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(channel: channel, began: channel.iterationStart)
    }
}
