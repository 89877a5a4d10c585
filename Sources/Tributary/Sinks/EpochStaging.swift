/// The two-phase commit of an in-memory sink: records staged per instance, sealed as an epoch
/// at the instance's barrier, released when the epoch's checkpoint completes, dropped when a
/// restore goes back before them. Pure state: the sink holds it under its lock.
struct EpochStaging<Element> {
    /// Written since the last seal, per writer instance.
    private var open: [Int: [Element]] = [:]
    /// Sealed epochs waiting for their commit.
    private var sealed: [(epoch: Int64, instance: Int, records: [Element])] = []

    mutating func stage(_ records: [Element], instance: Int) {
        open[instance, default: []].append(contentsOf: records)
    }

    /// Seals what `instance` staged since its last seal as `epoch`'s.
    mutating func seal(epoch: Int64, instance: Int) {
        sealed.append((epoch, instance, open.removeValue(forKey: instance) ?? []))
    }

    /// Takes what was sealed for epochs up to `epoch`, in epoch order, then instance order.
    mutating func release(upTo epoch: Int64) -> [[Element]] {
        let ready = sealed.filter { $0.epoch <= epoch }.sorted { ($0.epoch, $0.instance) < ($1.epoch, $1.instance) }
        sealed.removeAll { $0.epoch <= epoch }
        return ready.map(\.records)
    }

    /// For a restore of checkpoint `epoch` (`nil`: a fresh start): takes what was sealed up to
    /// it (to publish, if its commit did not happen yet) and drops what was staged or sealed
    /// after it.
    mutating func recover(lastCompleted epoch: Int64?) -> [[Element]] {
        let released = epoch.map { release(upTo: $0) } ?? []
        open = [:]
        sealed.removeAll { $0.epoch > (epoch ?? .min) }
        return released
    }

    /// Drops what was staged and not sealed (the run ended without sealing it).
    mutating func dropOpen() {
        open = [:]
    }
}
