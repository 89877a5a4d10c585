import Tributary

/// A person registering with the auction site.
public struct Person: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    public var emailAddress: String
    public var creditCard: String
    public var city: String
    public var state: String
    /// Milliseconds since 1970 (UTC), as a `Duration` since the epoch.
    public var dateTime: Duration
    public var extra: String

    public init(
        id: Int64, name: String, emailAddress: String, creditCard: String, city: String, state: String, dateTime: Duration, extra: String
    ) {
        self.id = id
        self.name = name
        self.emailAddress = emailAddress
        self.creditCard = creditCard
        self.city = city
        self.state = state
        self.dateTime = dateTime
        self.extra = extra
    }
}

/// An item put up for auction by a seller (a person id).
public struct Auction: Sendable, Hashable, Codable {
    public var id: Int64
    public var itemName: String
    public var description: String
    public var initialBid: Int64
    public var reserve: Int64
    public var dateTime: Duration
    public var expires: Duration
    public var seller: Int64
    public var category: Int64
    public var extra: String

    public init(
        id: Int64, itemName: String, description: String, initialBid: Int64, reserve: Int64, dateTime: Duration, expires: Duration,
        seller: Int64, category: Int64, extra: String
    ) {
        self.id = id
        self.itemName = itemName
        self.description = description
        self.initialBid = initialBid
        self.reserve = reserve
        self.dateTime = dateTime
        self.expires = expires
        self.seller = seller
        self.category = category
        self.extra = extra
    }
}

/// A bid on an auction.
public struct Bid: Sendable, Hashable, Codable {
    public var auction: Int64
    public var bidder: Int64
    public var price: Int64
    public var channel: String
    public var url: String
    public var dateTime: Duration
    public var extra: String

    public init(auction: Int64, bidder: Int64, price: Int64, channel: String, url: String, dateTime: Duration, extra: String) {
        self.auction = auction
        self.bidder = bidder
        self.price = price
        self.channel = channel
        self.url = url
        self.dateTime = dateTime
        self.extra = extra
    }
}

/// One Nexmark event: exactly one of a person, an auction or a bid.
public enum Event: Sendable, Hashable, Codable {
    case person(Person)
    case auction(Auction)
    case bid(Bid)

    /// The event's time: its person's, auction's or bid's `dateTime`.
    public var dateTime: Duration {
        switch self {
        case .person(let person): person.dateTime
        case .auction(let auction): auction.dateTime
        case .bid(let bid): bid.dateTime
        }
    }

    public var person: Person? {
        if case .person(let person) = self { return person }
        return nil
    }

    public var auction: Auction? {
        if case .auction(let auction) = self { return auction }
        return nil
    }

    public var bid: Bid? {
        if case .bid(let bid) = self { return bid }
        return nil
    }
}
