import Tributary

/// q7, highest bid: per tumbling 10 s window the highest price; then every bid with that
/// price made within the window's 10 s *including its end* (`end − 10 s ≤ dateTime ≤ end`):
/// `auction,price,bidder,dateTime,extra`.
///
/// Keyed by window; a bid at exactly a window's end also goes to that window, as a candidate
/// that matches its maximum but does not count towards it.
enum Q7 {
    static let size: Int64 = 10_000

    struct Offer: Sendable {
        let window: Int64
        let bid: Bid
        let inWindow: Bool
    }

    struct Highest: Codable, Sendable {
        var price: Int64 = .min
        var bids: [Bid] = []
        var atEnd: [Bid] = []
    }

    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).flatMap { bid -> [Offer] in
            let start = bid.dateTime.windowStart(every: size)
            var offers = [Offer(window: start, bid: bid, inWindow: true)]
            if bid.dateTime.milliseconds == start { offers.append(Offer(window: start - size, bid: bid, inWindow: false)) }
            return offers
        }.named("q7-offers")
            .keyBy { $0.window }
            .process(initial: Highest()) { (context: inout KeyedProcessContext<Int64, Highest, String>, offer: Offer) in
                if offer.inWindow {
                    if offer.bid.price > context.state.price {
                        context.state.price = offer.bid.price
                        context.state.bids = [offer.bid]
                    } else if offer.bid.price == context.state.price {
                        context.state.bids.append(offer.bid)
                    }
                } else {
                    context.state.atEnd.append(offer.bid)
                }
                // At the window's end itself: the bids at that instant have all arrived.
                context.timers.register(at: .milliseconds(context.key + size))
            } onTimer: { context, _ in
                let price = context.state.price
                for bid in context.state.bids + context.state.atEnd where bid.price == price { context.emit(row(bid)) }
                context.clearState()
            }.named("q7")
    }

    static func row(_ bid: Bid) -> String {
        CSV.row("\(bid.auction)", "\(bid.price)", "\(bid.bidder)", CSV.time(bid.dateTime), CSV.text(bid.extra))
    }
}
