import Tributary

/// q3, local item suggestion: an unwindowed inner join of auctions in category 10 with their
/// sellers living in Oregon, Idaho or California: `name,city,state,id` (the auction's id).
/// Every match counts, whichever side arrives first: per seller, the person is kept and
/// auctions that came before it wait for it.
enum Q3 {
    enum Side: Sendable {
        case seller(Person)
        case auction(Auction)
    }

    struct Seller: Codable, Sendable {
        var name: String
        var city: String
        var state: String

        init(_ person: Person) {
            (name, city, state) = (person.name, person.city, person.state)
        }
    }

    struct State: Codable, Sendable {
        var seller: Seller?
        var waiting: [Int64] = []
    }

    static let states: Set<String> = ["OR", "ID", "CA"]

    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        let sellers = events.compactMap { event -> Side? in
            guard let person = event.person, states.contains(person.state) else { return nil }
            return .seller(person)
        }.named("q3-sellers")
        let auctions = events.compactMap { event -> Side? in
            guard let auction = event.auction, auction.category == 10 else { return nil }
            return .auction(auction)
        }.named("q3-auctions")
        return sellers.union(auctions).keyBy { side -> Int64 in
            switch side {
            case .seller(let person): person.id
            case .auction(let auction): auction.seller
            }
        }.process(initial: State()) { (context: inout KeyedProcessContext<Int64, State, String>, side: Side) in
            switch side {
            case .seller(let person):
                let seller = Seller(person)
                for auction in context.state.waiting { context.emit(row(seller, auction)) }
                context.state = State(seller: seller)
            case .auction(let auction):
                if let seller = context.state.seller {
                    context.emit(row(seller, auction.id))
                } else {
                    context.state.waiting.append(auction.id)
                }
            }
        }.named("q3")
    }

    static func row(_ seller: Seller, _ auction: Int64) -> String {
        CSV.row(CSV.text(seller.name), CSV.text(seller.city), CSV.text(seller.state), "\(auction)")
    }
}
