import Tributary

/// q11, user sessions: per bidder, session windows with a 10 s gap (bids at most 10 s apart
/// are one session): `bidder,count,start,end`, start the first bid's time, end the last
/// bid's time plus 10 s.
enum Q11 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).keyBy { $0.bidder }
            .window(.session(gap: .seconds(10)), eventTime: { $0.dateTime })
            .aggregate(initial: 0, add: { count, _ in count += 1 }, merge: { $0 += $1 }) { bidder, window, count in
                row(bidder, count, start: window.start, end: window.end)
            }.named("q11")
    }

    static func row(_ bidder: Int64, _ count: Int, start: Duration, end: Duration) -> String {
        CSV.row("\(bidder)", "\(count)", CSV.time(start), CSV.time(end))
    }
}

/// q12, processing-time windows: bids per bidder in tumbling 10 s windows of the job's
/// processing time: `bidder,count,start,end`. Not a function of the events alone.
enum Q12 {
    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap(\.bid).keyBy { $0.bidder }
            .window(.tumbling(size: .seconds(10), time: .processingTime))
            .aggregate(initial: 0, add: { count, _ in count += 1 }) { bidder, window, count in
                Q11.row(bidder, count, start: window.start, end: window.end)
            }.named("q12")
    }
}
