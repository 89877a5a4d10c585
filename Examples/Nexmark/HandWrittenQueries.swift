/// Each query written by hand as one single-threaded loop over the events, with plain
/// dictionaries: what the queries cost without an engine (the benchmark's limit), and a
/// second implementation the tests compare the engine's rows with.
///
/// Each loop sees the whole input (it is a batch computation), so it needs no watermark: its
/// rows are the final result the streaming queries reach at the end of the input.
public enum HandWrittenQueries {
    /// Runs `query` over events `0..<count` of `event` and hands each row to `emit` (in no
    /// particular order). `nil` for q12, whose rows depend on processing time.
    public static func run(_ query: Query, count: Int, event: (Int) -> Event, emit: (String) -> Void) -> Void? {
        switch query {
        case .q0:
            for i in 0..<count {
                if let bid = event(i).bid {
                    emit(Q0.row(bid))
                }
            }
        case .q1:
            for i in 0..<count {
                if let bid = event(i).bid {
                    emit(Q1.row(bid))
                }
            }
        case .q2:
            for i in 0..<count {
                if let bid = event(i).bid, bid.auction % 123 == 0 { emit(CSV.row("\(bid.auction)", "\(bid.price)")) }
            }
        case .q3: q3(count: count, event: event, emit: emit)
        case .q4: q4(count: count, event: event, emit: emit)
        case .q5: q5(count: count, event: event, emit: emit)
        case .q7: q7(count: count, event: event, emit: emit)
        case .q8: q8(count: count, event: event, emit: emit)
        case .q9: q9(count: count, event: event, emit: emit)
        case .q11: q11(count: count, event: event, emit: emit)
        case .q12: return nil
        }
        return ()
    }

    static func q3(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        var sellers: [Int64: Person] = [:]
        var auctions: [Int64: [Int64]] = [:]
        for i in 0..<count {
            switch event(i) {
            case .person(let person) where Q3.states.contains(person.state): sellers[person.id] = person
            case .auction(let auction) where auction.category == 10: auctions[auction.seller, default: []].append(auction.id)
            default: break
            }
        }
        for (id, ids) in auctions {
            guard let person = sellers[id] else { continue }
            for auction in ids { emit(Q3.row(Q3.Seller(person), auction)) }
        }
    }

    /// q4 and q9: each auction's winning bid made while it was open. Keeps each auction's best
    /// bid as the bids come (bids before their auction wait), so memory follows the auctions,
    /// not the bids.
    static func winners(count: Int, event: (Int) -> Event) -> [(Auction, Bid)] {
        var auctions: [Int64: (auction: Auction, best: Bid?)] = [:]
        var waiting: [Int64: [Bid]] = [:]
        func offer(_ bid: Bid, to id: Int64) {
            guard let entry = auctions[id], bid.dateTime >= entry.auction.dateTime, bid.dateTime <= entry.auction.expires else { return }
            if AuctionBids.beats(bid, entry.best) { auctions[id]?.best = bid }
        }
        for i in 0..<count {
            switch event(i) {
            case .auction(let auction):
                auctions[auction.id] = (auction, nil)
                for bid in waiting.removeValue(forKey: auction.id) ?? [] { offer(bid, to: auction.id) }
            case .bid(let bid):
                if auctions[bid.auction] == nil {
                    waiting[bid.auction, default: []].append(bid)
                } else {
                    offer(bid, to: bid.auction)
                }
            case .person: break
            }
        }
        return auctions.values.compactMap { entry in entry.best.map { (entry.auction, $0) } }
    }

    static func q4(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        var totals: [Int64: (sum: Int64, count: Int64)] = [:]
        for (auction, bid) in winners(count: count, event: event) {
            totals[auction.category, default: (0, 0)].sum += bid.price
            totals[auction.category, default: (0, 0)].count += 1
        }
        for (category, total) in totals { emit(CSV.row("\(category)", "\(total.sum / total.count)")) }
    }

    static func q9(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        for (auction, bid) in winners(count: count, event: event) { emit(Q9.row(auction, bid)) }
    }

    static func q5(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        var counts: [Int64: [Int64: Int64]] = [:]
        for i in 0..<count {
            guard let bid = event(i).bid else { continue }
            let millis = bid.dateTime.milliseconds
            var start = bid.dateTime.windowStart(every: 2_000)
            while start > millis - 10_000 {
                counts[start, default: [:]][bid.auction, default: 0] += 1
                start -= 2_000
            }
        }
        for (_, auctions) in counts {
            let most = auctions.values.max() ?? 0
            for (auction, count) in auctions where count == most { emit(CSV.row("\(auction)", "\(count)")) }
        }
    }

    static func q7(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        // Per window: the highest price and the bids at it, and the bids exactly at its start
        // (which also count for the window before, if they match its highest price).
        var highest: [Int64: (price: Int64, bids: [Bid])] = [:]
        var atStart: [Int64: [Bid]] = [:]
        for i in 0..<count {
            guard let bid = event(i).bid else { continue }
            let start = bid.dateTime.windowStart(every: Q7.size)
            if bid.dateTime.milliseconds == start { atStart[start, default: []].append(bid) }
            if let current = highest[start], current.price > bid.price { continue }
            if let current = highest[start], current.price == bid.price {
                highest[start]?.bids.append(bid)
            } else {
                highest[start] = (bid.price, [bid])
            }
        }
        for (start, top) in highest {
            let boundary = (atStart[start + Q7.size] ?? []).filter { $0.price == top.price }
            for bid in top.bids + boundary { emit(Q7.row(bid)) }
        }
    }

    static func q8(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        var persons: [Q8.PersonWindow: String] = [:]
        var sellers: Set<Q8.PersonWindow> = []
        for i in 0..<count {
            switch event(i) {
            case .person(let person): persons[Q8.PersonWindow(id: person.id, start: person.dateTime.windowStart(every: Q8.size))] = person.name
            case .auction(let auction): sellers.insert(Q8.PersonWindow(id: auction.seller, start: auction.dateTime.windowStart(every: Q8.size)))
            case .bid: break
            }
        }
        for (key, name) in persons where sellers.contains(key) {
            emit(Q8.row(key, name))
        }
    }

    static func q11(count: Int, event: (Int) -> Event, emit: (String) -> Void) {
        var times: [Int64: [Int64]] = [:]
        for i in 0..<count {
            if let bid = event(i).bid { times[bid.bidder, default: []].append(bid.dateTime.milliseconds) }
        }
        for (bidder, list) in times {
            let sorted = list.sorted()
            var (start, last, n) = (sorted[0], sorted[0], 0)
            for time in sorted {
                if time - last > 10_000 {
                    emit(Q11.row(bidder, n, start: .milliseconds(start), end: .milliseconds(last + 10_000)))
                    (start, n) = (time, 0)
                }
                last = time
                n += 1
            }
            emit(Q11.row(bidder, n, start: .milliseconds(start), end: .milliseconds(last + 10_000)))
        }
    }
}
