import Tributary

/// q4, average price per category: for each auction, the highest bid made while it was open
/// (`auction.dateTime ≤ bid.dateTime ≤ auction.expires`); then per category the average of
/// those highest bids, as an integer (truncated): `category,avg`. Auctions without such a bid
/// are left out.
///
/// The first stage closes an auction when the watermark passes its expiry (every bid that can
/// count has arrived); the second emits each category's average when the input ends, which is
/// the final result of the official (updating) query.
enum Q4 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        let closed = AuctionBids.closedAuctions(events, name: "q4-max") { auction, best -> (Int64, Int64)? in
            best.map { (auction.category, $0.price) }
        }
        return closed.keyBy { $0.0 }.process(initial: Average()) {
            (context: inout KeyedProcessContext<Int64, Average, String>, closed: (Int64, Int64)) in
            context.state.sum += closed.1
            context.state.count += 1
            // Fires under the final watermark: the query's final result.
            context.timers.register(at: .seconds(Int64.max / 4))
        } onTimer: { context, _ in
            guard context.state.count > 0 else { return }
            context.emit(CSV.row("\(context.key)", "\(context.state.sum / context.state.count)"))
        }.named("q4")
    }

    struct Average: Codable, Sendable {
        var sum: Int64 = 0
        var count: Int64 = 0
    }
}
