import Tributary

/// q8, monitor new users: the persons who created an auction in the same tumbling 10 s window
/// as their own `person` event: `id,name,starttime` (the window's start), once per person and
/// window however many auctions they created. A window join of persons with sellers.
enum Q8 {
    static let size: Int64 = 10_000

    /// A person's id and a window's start in milliseconds (for the hand-written loop).
    struct PersonWindow: Hashable, Sendable {
        let id: Int64
        let start: Int64
    }

    struct NewPerson: Codable, Sendable {
        var id: Int64
        var name: String
        var dateTime: Duration
    }

    struct Sale: Codable, Sendable {
        var seller: Int64
        var dateTime: Duration
    }

    static func build(_ events: DataStream<Event>) -> DataStream<String> {
        let persons = events.compactMap { event in event.person.map { NewPerson(id: $0.id, name: $0.name, dateTime: $0.dateTime) } }
            .named("q8-persons")
        let sales = events.compactMap { event in event.auction.map { Sale(seller: $0.seller, dateTime: $0.dateTime) } }
            .named("q8-sales")
        return persons.join(sales, where: { $0.id }, equalTo: { $0.seller })
            .window(.tumbling(size: .milliseconds(size)), leftTime: { $0.dateTime }, rightTime: { $0.dateTime })
            .coGroup { id, window, persons, sales in
                // The query groups each side by window first: one row per person and window.
                guard !sales.isEmpty else { return [] }
                let start = Int64(window.start / .milliseconds(1))
                return Set(persons.map(\.name)).sorted().map { row(PersonWindow(id: id, start: start), $0) }
            }
            .named("q8")
    }

    static func row(_ key: PersonWindow, _ name: String) -> String {
        CSV.row("\(key.id)", CSV.text(name), CSV.time(.milliseconds(key.start)))
    }
}
