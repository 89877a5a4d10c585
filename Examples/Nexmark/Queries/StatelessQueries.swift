import Tributary

/// q0, pass-through: every bid.
enum Q0 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).map(row).named("q0")
    }

    static func row(_ bid: Bid) -> String {
        CSV.row("\(bid.auction)", "\(bid.bidder)", "\(bid.price)", CSV.time(bid.dateTime), CSV.text(bid.extra))
    }
}

/// q1, currency conversion: every bid with its price times 0.908, in exact decimal arithmetic
/// with three decimals (as SQL's DECIMAL: `1399 × 0.908 = 1270.292`).
enum Q1 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).map(row).named("q1")
    }

    static func row(_ bid: Bid) -> String {
        CSV.row("\(bid.auction)", "\(bid.bidder)", euros(bid.price), CSV.time(bid.dateTime), CSV.text(bid.extra))
    }

    /// `dollars × 0.908` with three decimals, in integers (no rounding: 0.908 has three).
    static func euros(_ dollars: Int64) -> String {
        let thousandths = dollars.multipliedReportingOverflow(by: 908)
        guard !thousandths.overflow else { return "overflow" }
        let value = thousandths.partialValue
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        let fraction = String(magnitude % 1_000)
        return "\(sign)\(magnitude / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}

/// q2, selection: the bids on auctions whose id is a multiple of 123.
enum Q2 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).filter { $0.auction % 123 == 0 }.map { CSV.row("\($0.auction)", "\($0.price)") }.named("q2")
    }
}
