import Tributary

/// q3, local item suggestion: an unwindowed inner join of auctions in category 10 with their
/// sellers living in Oregon, Idaho or California: `name,city,state,id` (the auction's id).
/// Every match counts, whichever side arrives first (a regular join keeps both sides).
enum Q3 {
    struct Seller: Codable, Sendable {
        var id: Int64
        var name: String
        var city: String
        var state: String

        init(_ person: Person) {
            (id, name, city, state) = (person.id, person.name, person.city, person.state)
        }
    }

    struct SellersAuction: Codable, Sendable {
        var id: Int64
        var seller: Int64
    }

    static let states: Set<String> = ["OR", "ID", "CA"]

    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        let sellers = events.compactMap { event -> Seller? in
            guard let person = event.person, states.contains(person.state) else { return nil }
            return Seller(person)
        }.named("q3-sellers")
        let auctions = events.compactMap { event -> SellersAuction? in
            guard let auction = event.auction, auction.category == 10 else { return nil }
            return SellersAuction(id: auction.id, seller: auction.seller)
        }.named("q3-auctions")
        return sellers.join(auctions, where: { $0.id }, equalTo: { $0.seller })
            .apply { seller, auction in row(seller, auction.id) }
            .named("q3")
    }

    static func row(_ seller: Seller, _ auction: Int64) -> String {
        CSV.row(CSV.text(seller.name), CSV.text(seller.city), CSV.text(seller.state), "\(auction)")
    }
}
