import Tributary

/// q8, monitor new users: the persons who created an auction in the same tumbling 10 s window
/// as their own `person` event: `id,name,starttime` (the window's start), once per person and
/// window however many auctions they created.
enum Q8 {
    static let size: Int64 = 10_000

    struct PersonWindow: Hashable, Codable, Sendable {
        let id: Int64
        let start: Int64
    }

    enum Side: Sendable {
        case person(Person)
        case auction(Auction)
    }

    struct State: Codable, Sendable {
        var name: String?
        var sold = false
        var emitted = false
    }


    static func row(_ key: PersonWindow, _ name: String) -> String {
        CSV.row("\(key.id)", CSV.text(name), CSV.time(.milliseconds(key.start)))
    }

    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        events.compactMap { event -> Side? in
            switch event {
            case .person(let person): .person(person)
            case .auction(let auction): .auction(auction)
            case .bid: nil
            }
        }.named("q8-events").keyBy { side -> PersonWindow in
            switch side {
            case .person(let person): PersonWindow(id: person.id, start: person.dateTime.windowStart(every: size))
            case .auction(let auction): PersonWindow(id: auction.seller, start: auction.dateTime.windowStart(every: size))
            }
        }.process(initial: State()) { (context: inout KeyedProcessContext<PersonWindow, State, String>, side: Side) in
            switch side {
            case .person(let person): context.state.name = person.name
            case .auction: context.state.sold = true
            }
            if let name = context.state.name, context.state.sold, !context.state.emitted {
                context.emit(row(context.key, name))
                context.state.emitted = true
            }
            // The window is over once the watermark passes its end: nothing to keep.
            context.timers.register(at: .milliseconds(context.key.start + size))
        } onTimer: { context, _ in
            context.clearState()
        }.named("q8")
    }
}
