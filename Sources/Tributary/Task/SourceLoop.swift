/// The read loop of one source instance: fill a batch, run the chain over it, until the source
/// is exhausted or the job is cancelled.
@inlinable
func runSourceLoop<S: Source>(
    _ source: S, chain: Chain, settings: SourceSettings, isolation: isolated (any Actor)?
) async throws {
    guard let head = chain.head as? BatchBuffer<S.Element> else { throw RuntimeInvariantError("source buffer type") }
    var reader: S.Reader
    do {
        let restored = try chain.restoredSourcePosition.map { try StateCoder.decode(S.Position.self, from: $0) }
        // A source that cannot seek is not handed a position it might misread; the built-in
        // one learns it anyway (sourceStarted), to count what the restore lost.
        reader = try source.makeReader(startingAt: source.isReplayable ? restored : nil)
        chain.sourceStarted(source, at: restored)
    } catch {
        throw await chain.sourceFailure(error)
    }
    defer { chain.stopIdleWaker() }
    // A reader's background work (an async sequence's pump) runs beside the loop; leaving
    // this scope early cancels it and waits for it.
    let backgroundWork = reader.backgroundWork
    async let background: Void = backgroundWork?() ?? ()
    var more = true
    while more {
        // A cancelled or failed job never finishes its sources' input: finishing would report
        // a final state (and position) to the coordinator that the job never reached.
        if Task.isCancelled { throw CancellationError() }
        if chain.isDraining {
            chain.sourceEndedEarly()
            break
        }
        if let checkpoints = chain.checkpoints, checkpoints.requested > chain.lastBarrier {
            let position: [UInt8]
            do {
                position = try StateCoder.encode(reader.position)
            } catch {
                throw await chain.sourceFailure(error)
            }
            try await chain.barrier(checkpoints.requested, sourcePosition: position, alignment: .zero)
        }
        if chain.hasTimers { try await chain.fireDueTimers() }
        if chain.hasWatermarkGenerators { try await chain.checkIdleInputs() }
        var records = head.take()
        do {
            more = try await reader.read(
                into: &records, limit: ReadLimit(maxCount: settings.batchSize, deadline: .now + settings.linger))
        } catch {
            // Only a cancelled task ends quietly: a reader that throws CancellationError of its
            // own accord has failed, and ending quietly would never finish its input.
            if Task.isCancelled { throw CancellationError() }
            throw await chain.sourceFailure(error)
        }
        chain.sourceRecords += records.count
        chain.checkpoints?.sourced(records.count)
        head.items = records
        if records.isEmpty {
            // A reader that returned nothing without suspending would otherwise hold this
            // thread of the cooperative pool for as long as it stays idle.
            await Task.yield()
        } else {
            try await chain.process()
        }
    }
    if chain.checkpoints != nil {
        // Exhausted, or stopped with a checkpoint: the final checkpoint resumes from here.
        do {
            chain.finalSourcePosition = try StateCoder.encode(reader.position)
        } catch {
            throw await chain.sourceFailure(error)
        }
    }
    await background
}
