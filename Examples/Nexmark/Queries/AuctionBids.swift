import Tributary

/// The join of q4 and q9: each auction with the bids made while it was open
/// (`auction.dateTime ≤ bid.dateTime ≤ auction.expires`), keeping the winning one: the
/// highest price, and on equal prices the earliest (then the first to arrive).
///
/// Per auction id the auction and the best bid so far are kept; bids that arrive before
/// their auction wait for it. When the watermark passes the auction's expiry no bid that
/// counts can still arrive: `close` makes the auction's output, and only a mark that it closed
/// is kept, so later bids on it are dropped rather than kept forever.
enum AuctionBids {
    enum Side: Sendable {
        case auction(Auction)
        case bid(Bid)
    }

    struct State: Codable, Sendable {
        var auction: Auction?
        var best: Bid?
        var waiting: [Bid] = []
        /// The auction has closed: bids that still come cannot count (they are after its
        /// expiry), so they are dropped instead of waiting for an auction that will not come.
        var closed = false
    }

    static func closedAuctions<Output: Sendable>(
        _ events: DataStream<Event>, name: String, close: @escaping @Sendable (Auction, Bid?) -> Output?
    ) -> DataStream<Output> {
        events.compactMap { event -> Side? in
            switch event {
            case .auction(let auction): .auction(auction)
            case .bid(let bid): .bid(bid)
            case .person: nil
            }
        }.named("\(name)-events").keyBy { side -> Int64 in
            switch side {
            case .auction(let auction): auction.id
            case .bid(let bid): bid.auction
            }
        }.process(initial: State()) { (context: inout KeyedProcessContext<Int64, State, Output>, side: Side) in
            switch side {
            case .auction(let auction):
                context.state.auction = auction
                for bid in context.state.waiting { offer(bid, to: &context.state) }
                context.state.waiting = []
                context.timers.register(at: auction.expires)
            case .bid(let bid):
                if context.state.closed { return }
                if context.state.auction == nil {
                    context.state.waiting.append(bid)
                } else {
                    offer(bid, to: &context.state)
                }
            }
        } onTimer: { context, _ in
            guard let auction = context.state.auction else { return }
            if let output = close(auction, context.state.best) { context.emit(output) }
            context.state = State(closed: true)
        }.named(name)
    }

    static func offer(_ bid: Bid, to state: inout State) {
        guard let auction = state.auction, bid.dateTime >= auction.dateTime, bid.dateTime <= auction.expires else { return }
        if beats(bid, state.best) { state.best = bid }
    }

    /// Whether `bid` wins over `best`: a higher price, or an equal one made earlier (the first
    /// to arrive keeps a complete tie).
    static func beats(_ bid: Bid, _ best: Bid?) -> Bool {
        guard let best else { return true }
        return bid.price > best.price || (bid.price == best.price && bid.dateTime < best.dateTime)
    }
}
