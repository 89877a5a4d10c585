/// A deterministic, in-process generator of Nexmark events, after the official generator's model
/// (github.com/nexmark/nexmark) but not value-for-value identical to it.
///
/// ``event(at:)`` is a pure function of the seed and the index, so any event can be made on its
/// own, in any order, again after a restart: `GeneratorSource(count: n) { generator.event(at: $0) }`
/// is replayable. The same seed gives the same events on every platform (integer arithmetic
/// only; no floating point, no system random source, no shared state).
///
/// The model, per event index `i`:
///
/// - **Mix**: every 50 events hold 1 person (`i % 50 == 0`), 3 auctions (`i % 50` in 1...3) and
///   46 bids.
/// - **Time**: `startTime + i * 1000 / eventsPerSecond` milliseconds (whole milliseconds, never
///   decreasing with `i`).
/// - **Ids**: the n-th person (from 0) has id `1000 + n`, the n-th auction id `1000 + n`.
/// - **Sellers**: 3 in 4 auctions are by the "hot" seller, the first person of the newest batch of
///   100 persons; the others by a person drawn from the newest 1,000. Sellers always exist.
/// - **Bids**: half go to one of the 4 newest auctions, half to one of the newest 100. The bidder
///   is a hot bidder (the second person of the newest batch of 100) 3 times in 4, otherwise one of
///   the newest 1,000 persons; as in the official generator, bidder ids carry the person-id base
///   twice, so they are `2000 + n` and start at 2000.
/// - **Values**: prices from 100 to 99,900,000 (three significant digits times a power of ten, so
///   small and large prices are equally common by magnitude); `reserve` is above `initialBid`;
///   categories 10...14; `expires` 1 to 20 s after the auction's `dateTime`, so that windows over
///   auctions close within a run; names, cities and states (including OR, ID and CA) from small
///   fixed lists; half the bids on a hot channel (Google, Facebook, Baidu, Apple), the rest on
///   `channel-N`; strings never hold a comma, double quote, backslash or line break.
public struct EventGenerator: Sendable {
    /// 2015-07-15 00:00:00.000 UTC, the time of the first event of the official sample files.
    public static let defaultStartTime: Duration = .milliseconds(1_436_918_400_000)

    /// Chooses every random field; generators with different seeds make different events with
    /// the same ids and times.
    public let seed: UInt64
    /// Events per second of event time; 1 or more.
    public let eventsPerSecond: Int
    /// The first event's time, as a `Duration` since 1970-01-01 00:00:00 UTC.
    public let startTime: Duration

    /// - Parameters:
    ///   - seed: chooses the random fields; default 0.
    ///   - eventsPerSecond: how fast event time advances; default 10,000 (0.1 ms per event).
    ///     A value below 1 is taken as 1 (and ``eventsPerSecond`` reads 1), so a generator
    ///     never divides by zero.
    ///   - startTime: the first event's time; default ``defaultStartTime``.
    public init(seed: UInt64 = 0, eventsPerSecond: Int = 10_000, startTime: Duration = EventGenerator.defaultStartTime) {
        self.seed = seed
        self.eventsPerSecond = max(1, eventsPerSecond)
        self.startTime = startTime
    }

    // The official generator's defaults.
    static let eventsPerCycle = 50
    static let auctionsPerCycle: Int64 = 3
    static let firstPersonId: Int64 = 1000
    static let firstAuctionId: Int64 = 1000
    static let activePersons: Int64 = 1000
    static let auctionsInFlight: Int64 = 100
    static let hotBatchSize: Int64 = 100
    static let hotSellerRatio: Int64 = 4
    static let hotBidderRatio: Int64 = 4
    static let hotAuctionRatio: Int64 = 2
    /// How many of the newest auctions a hot bid chooses from.
    static let hotAuctions: Int64 = 4

    /// The event at `index`, the same for the same seed and index every time (a negative
    /// index is taken as 0: a source counts from 0).
    public func event(at index: Int) -> Event {
        let index = max(0, index)
        var random = EventRandom(seed: seed, index: index)
        let time = dateTime(ofEventAt: index)
        let cycle = Int64(index / Self.eventsPerCycle)
        let slot = Int64(index % Self.eventsPerCycle)
        // Each cycle opens with its person, so every event after it can refer to it.
        let personCount = cycle + 1
        if slot == 0 {
            return .person(makePerson(id: Self.firstPersonId + cycle, time: time, random: &random))
        }
        if slot <= Self.auctionsPerCycle {
            let auctionNumber = cycle * Self.auctionsPerCycle + slot - 1
            return .auction(
                makeAuction(id: Self.firstAuctionId + auctionNumber, personCount: personCount, time: time, random: &random))
        }
        let auctionCount = (cycle + 1) * Self.auctionsPerCycle
        return .bid(makeBid(auctionCount: auctionCount, personCount: personCount, time: time, random: &random))
    }

    /// The time of the event at `index`: `startTime + index * 1000 / eventsPerSecond` ms
    /// (`index * 1000` must fit in an `Int64`, which holds for indexes below 9 * 10^15).
    public func dateTime(ofEventAt index: Int) -> Duration {
        startTime + .milliseconds(Int64(index) * 1000 / Int64(eventsPerSecond))
    }

    // MARK: Events

    private func makePerson(id: Int64, time: Duration, random: inout EventRandom) -> Person {
        let firstName = random.pick(Self.firstNames)
        let lastName = random.pick(Self.lastNames)
        let mailbox = random.string(length: 7, from: Self.lowercase)
        let domain = random.string(length: 5, from: Self.lowercase)
        let creditCard = random.creditCardNumber()
        let city = random.pick(Self.cities)
        let state = random.pick(Self.states)
        let extra = random.extra()
        return Person(
            id: id, name: firstName + " " + lastName, emailAddress: mailbox + "@" + domain + ".com", creditCard: creditCard,
            city: city, state: state, dateTime: time, extra: extra)
    }

    private func makeAuction(id: Int64, personCount: Int64, time: Duration, random: inout EventRandom) -> Auction {
        let itemName = random.pick(Self.adjectives) + " " + random.pick(Self.nouns)
        let descriptionLength = 5 + Int(random.below(26))
        let description = random.string(length: descriptionLength, from: Self.lowercase)
        let initialBid = random.price()
        let reserve = initialBid + random.price()
        let expires = time + .milliseconds(1_000 + random.below(19_001))
        let sellerId = seller(personCount: personCount, random: &random)
        let category = 10 + random.below(5)
        let extra = random.extra()
        return Auction(
            id: id, itemName: itemName, description: description, initialBid: initialBid, reserve: reserve, dateTime: time,
            expires: expires, seller: sellerId, category: category, extra: extra)
    }

    private func makeBid(auctionCount: Int64, personCount: Int64, time: Duration, random: inout EventRandom) -> Bid {
        let auction = Self.firstAuctionId + biddedAuction(auctionCount: auctionCount, random: &random)
        let bidderId = bidder(personCount: personCount, random: &random)
        let price = random.price()
        let channel: String
        let url: String
        if random.below(2) == 0 {
            channel = random.pick(Self.hotChannels)
            url = random.itemURL()
        } else {
            let number = random.below(10_000)
            channel = "channel-\(number)"
            url = random.itemURL() + "&channel_id=\(number)"
        }
        let extra = random.extra()
        return Bid(auction: auction, bidder: bidderId, price: price, channel: channel, url: url, dateTime: time, extra: extra)
    }

    // MARK: Who and what

    /// A seller id; hot sellers make some persons far more active, as auction sites have.
    private func seller(personCount: Int64, random: inout EventRandom) -> Int64 {
        let newest = personCount - 1
        if random.below(Self.hotSellerRatio) > 0 {
            return Self.firstPersonId + newest / Self.hotBatchSize * Self.hotBatchSize
        }
        return Self.firstPersonId + recentPerson(personCount: personCount, random: &random)
    }

    /// A bidder id. The hot bidder is the batch's second person so hot bidders and hot sellers
    /// differ; early on it may not have joined yet, as in the official generator.
    private func bidder(personCount: Int64, random: inout EventRandom) -> Int64 {
        let newest = personCount - 1
        let number: Int64
        if random.below(Self.hotBidderRatio) > 0 {
            number = newest / Self.hotBatchSize * Self.hotBatchSize + 1
        } else {
            number = recentPerson(personCount: personCount, random: &random)
        }
        return 2 * Self.firstPersonId + number
    }

    /// The number (from 0) of a person among the newest `activePersons`, so activity per person
    /// does not thin out as a long run adds people.
    private func recentPerson(personCount: Int64, random: inout EventRandom) -> Int64 {
        let active = min(personCount, Self.activePersons)
        return personCount - active + random.below(active)
    }

    /// The number (from 0) of an auction a bid is for: the newest auctions draw most bids.
    private func biddedAuction(auctionCount: Int64, random: inout EventRandom) -> Int64 {
        if random.below(Self.hotAuctionRatio) > 0 {
            return auctionCount - 1 - random.below(min(auctionCount, Self.hotAuctions))
        }
        let inFlight = min(auctionCount, Self.auctionsInFlight)
        return auctionCount - inFlight + random.below(inFlight)
    }

    // MARK: Vocabulary

    static let firstNames = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"]
    static let lastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"]
    static let cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"]
    static let states = ["AZ", "CA", "ID", "OR", "WA", "WY"]
    static let hotChannels = ["Google", "Facebook", "Baidu", "Apple"]
    static let adjectives = ["vintage", "antique", "signed", "rare", "used", "boxed", "handmade", "restored"]
    static let nouns = ["clock", "bicycle", "guitar", "camera", "lamp", "chair", "watch", "vase", "print", "radio"]
    static let lowercase: StaticString = "abcdefghijklmnopqrstuvwxyz"
}

/// The random stream of one event: SplitMix64 started from a hash of the seed and the event
/// index, so each event's fields depend on nothing but (seed, index), and drawing them in a
/// fixed order makes them reproducible.
struct EventRandom {
    private var state: UInt64

    init(seed: UInt64, index: Int) {
        state = Self.mix(Self.mix(seed) &+ UInt64(truncatingIfNeeded: index))
    }

    /// SplitMix64's finalizer: a bijection that spreads each input bit over the whole output.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// A value in `0..<bound` (0 when `bound` is below 1). Multiply-high maps 64 random bits
    /// onto the range; its bias, below bound / 2^64, is negligible for these small bounds.
    mutating func below(_ bound: Int64) -> Int64 {
        let range = UInt64(max(1, bound))
        return Int64(truncatingIfNeeded: next().multipliedFullWidth(by: range).high)
    }

    mutating func pick(_ choices: [String]) -> String {
        guard !choices.isEmpty else { return "" }
        return choices[Int(below(Int64(choices.count)))]
    }

    /// `length` bytes drawn from `alphabet`, which must be ASCII.
    mutating func string(length: Int, from alphabet: StaticString) -> String {
        let length = max(1, length)
        return alphabet.withUTF8Buffer { symbols in
            String(unsafeUninitializedCapacity: length) { output in
                for offset in 0..<length {
                    output[offset] = symbols[Int(below(Int64(symbols.count)))]
                }
                return length
            }
        }
    }

    /// Four groups of four digits, such as `2180 4797 9305 7875`.
    mutating func creditCardNumber() -> String {
        String(unsafeUninitializedCapacity: 19) { output in
            for offset in 0..<19 {
                output[offset] = offset % 5 == 4 ? UInt8(ascii: " ") : UInt8(ascii: "0") + UInt8(truncatingIfNeeded: below(10))
            }
            return 19
        }
    }

    /// `https://www.nexmark.com/abc/de_f/ghi/item.htm?query=1`, three random path segments.
    mutating func itemURL() -> String {
        var url = "https://www.nexmark.com/"
        for _ in 0..<3 {
            let length = 3 + Int(below(2))
            url += string(length: length, from: Self.pathSymbols)
            url += "/"
        }
        return url + "item.htm?query=1"
    }

    /// 10 to 40 letters and the symbols [ ] ^ _ and backtick: the official `extra` padding
    /// without its backslash, which JSON escapes but query output writes unquoted.
    mutating func extra() -> String {
        let length = 10 + Int(below(31))
        return string(length: length, from: Self.extraSymbols)
    }

    /// Three significant digits times a power of ten from 1 to 100,000: 100 to 99,900,000,
    /// roughly log-uniform like the official generator's `10^(6u) * 100`.
    mutating func price() -> Int64 {
        var price = 100 + below(900)
        for _ in 0..<below(6) {
            price *= 10
        }
        return price
    }

    private static let pathSymbols: StaticString = "abcdefghijklmnopqrstuvwxyz_"
    private static let extraSymbols: StaticString = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`"
}
