import Tributary

/// q9, winning bids: each auction with its winning bid among those made while it was open
/// (highest price, earliest on equal prices): the ten auction fields then the bid's
/// `auction,bidder,price,dateTime,extra`. Auctions without such a bid are left out.
enum Q9 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        AuctionBids.closedAuctions(events, name: "q9") { auction, winner in winner.map { row(auction, $0) } }
    }

    static func row(_ auction: Auction, _ bid: Bid) -> String {
        CSV.row(
                "\(auction.id)", CSV.text(auction.itemName), CSV.text(auction.description), "\(auction.initialBid)", "\(auction.reserve)",
                CSV.time(auction.dateTime), CSV.time(auction.expires), "\(auction.seller)", "\(auction.category)", CSV.text(auction.extra),
                "\(bid.auction)", "\(bid.bidder)", "\(bid.price)", CSV.time(bid.dateTime), CSV.text(bid.extra))
    }
}
