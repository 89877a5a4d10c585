import Tributary

/// q5, hot items: in hop windows of 10 s sliding by 2 s, the auctions with the most bids:
/// `auction,num` for every auction whose count equals its window's largest count (ties all
/// appear). No window column: equal rows from different windows are all kept.
///
/// Stage one counts bids per auction and window; stage two, keyed by window, keeps the
/// leaders and emits them once the watermark that fired the window's counts reaches it.
enum Q5 {
    struct Count: Sendable {
        let window: TimeWindow
        let auction: Int64
        let count: Int64
    }

    struct Leaders: Codable, Sendable {
        var count: Int64 = 0
        var auctions: [Int64] = []
    }

    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).keyBy { $0.auction }
            .window(.sliding(size: .seconds(10), slide: .seconds(2)), eventTime: { $0.dateTime })
            .aggregate(initial: Int64(0), add: { count, _ in count += 1 }) { auction, window, count in
                Count(window: window, auction: auction, count: count)
            }.named("q5-counts")
            .keyBy { $0.window }
            .process(initial: Leaders()) { (context: inout KeyedProcessContext<TimeWindow, Leaders, String>, count: Count) in
                if count.count > context.state.count {
                    context.state = Leaders(count: count.count, auctions: [count.auction])
                } else if count.count == context.state.count {
                    context.state.auctions.append(count.auction)
                }
                // The counts of a window arrive before the watermark that fired them.
                context.timers.register(at: count.window.maxTimestamp)
            } onTimer: { context, _ in
                for auction in context.state.auctions { context.emit(CSV.row("\(auction)", "\(context.state.count)")) }
                context.clearState()
            }.named("q5")
    }
}
