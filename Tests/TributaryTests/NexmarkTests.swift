import Foundation
import Nexmark
import Testing
@testable import Tributary
import TributaryTesting

/// The Nexmark queries: each on a small input checked by hand, every one on the official
/// generator's 10,000-event sample against an independent implementation of the semantics
/// (`Fixtures/nexmark_reference.py`), and exactly-once under failures with checkpoints.
@Suite struct NexmarkTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let sample = fixtures.appendingPathComponent("nexmark-events-10k.jsonl").path

    /// 2015-07-15 00:00:00.000 UTC plus `ms` milliseconds.
    static func at(_ ms: Int64) -> Duration { .milliseconds(1_436_918_400_000 + ms) }

    static func person(_ id: Int64, _ name: String = "P", state: String = "OR", at ms: Int64) -> Event {
        .person(Person(id: id, name: name, emailAddress: "e", creditCard: "c", city: "Bend", state: state, dateTime: at(ms), extra: ""))
    }

    static func auction(_ id: Int64, seller: Int64, category: Int64 = 10, at ms: Int64, expires: Int64 = 10_000) -> Event {
        .auction(
            Auction(
                id: id, itemName: "item\(id)", description: "d", initialBid: 1, reserve: 2, dateTime: at(ms), expires: at(expires),
                seller: seller, category: category, extra: "x"))
    }

    static func bid(_ auction: Int64, bidder: Int64 = 2000, price: Int64, at ms: Int64, extra: String = "e") -> Event {
        .bid(Bid(auction: auction, bidder: bidder, price: price, channel: "Google", url: "u", dateTime: at(ms), extra: extra))
    }

    /// Runs `query` over `events` (in order) and returns its rows, sorted bytewise.
    func rows(_ query: Query, _ events: [Event]) async throws -> [String] {
        let env = try LocalEnvironment("nexmark-\(query)", config: ["work_dir": .string(directory.path("work")), "batch_size": 4])
        let sink = CollectSink<String>()
        query.build(Query.timestamped(env.fromCollection(events))).sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        return sink.values.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: hand-checked inputs

    @Test func q0PassesEveryBidThroughAndWritesAnEmptyStringAsTwoQuotes() async throws {
        let rows = try await rows(.q0, [Self.person(1000, at: 0), Self.bid(7, price: 99, at: 1_500, extra: ""), Self.bid(8, price: 5, at: 61_002)])
        #expect(rows == ["7,2000,99,2015-07-15 00:00:01.500,\"\"", "8,2000,5,2015-07-15 00:01:01.002,e"])
    }

    @Test func q1ConvertsPricesInExactDecimals() async throws {
        let rows = try await rows(.q1, [Self.bid(1, price: 1399, at: 0), Self.bid(2, price: 100, at: 1), Self.bid(3, price: 1, at: 2)])
        #expect(rows.map { $0.split(separator: ",")[2] } == ["1270.292", "90.800", "0.908"])
    }

    @Test func q2KeepsBidsOnAuctionsThatAreMultiplesOf123() async throws {
        let rows = try await rows(.q2, [Self.bid(123, price: 9, at: 0), Self.bid(124, price: 8, at: 1), Self.bid(246, price: 7, at: 2)])
        #expect(rows == ["123,9", "246,7"])
    }

    @Test func q3JoinsWhicheverSideComesFirst() async throws {
        let rows = try await rows(
            .q3,
            [
                Self.auction(1, seller: 10, at: 0),  // before its seller
                Self.person(10, "Ann", state: "OR", at: 1),
                Self.auction(2, seller: 10, at: 2),  // after its seller
                Self.person(11, "Bob", state: "WA", at: 3), Self.auction(3, seller: 11, at: 4),  // wrong state
                Self.person(12, "Cy", state: "CA", at: 5), Self.auction(4, seller: 12, category: 11, at: 6),  // wrong category
            ])
        #expect(rows == ["Ann,Bend,OR,1", "Ann,Bend,OR,2"])
    }

    @Test func q4AveragesEachAuctionsHighestBidWhileItWasOpenAsAnInteger() async throws {
        let rows = try await rows(
            .q4,
            [
                Self.auction(1, seller: 1, category: 10, at: 1_000, expires: 10_000),
                Self.auction(2, seller: 1, category: 10, at: 1_000, expires: 10_000),
                Self.auction(3, seller: 1, category: 11, at: 1_000, expires: 10_000),
                Self.auction(4, seller: 1, category: 11, at: 1_000, expires: 2_000),
                Self.bid(1, price: 100, at: 1_000),  // at the start: counts
                Self.bid(1, price: 300, at: 5_000),
                Self.bid(2, price: 51, at: 10_000),  // at the expiry: counts
                Self.bid(3, price: 10, at: 3_000),
                Self.bid(1, price: 900, at: 10_001),  // after the expiry
                Self.bid(4, price: 999, at: 2_001),  // after the expiry; auction 4 has no bid that counts
            ])
        #expect(rows == ["10,175", "11,10"])
    }

    @Test func q5ListsEveryAuctionTiedForTheMostBidsPerHopWindow() async throws {
        // Auctions 1 and 2 both have two bids around 3 s; auction 3 one bid at 13 s.
        let rows = try await rows(
            .q5, [Self.bid(1, price: 1, at: 3_000), Self.bid(2, price: 1, at: 3_100), Self.bid(1, price: 1, at: 3_500), Self.bid(2, price: 1, at: 3_900), Self.bid(3, price: 1, at: 13_000)])
        // Windows containing 3.0–3.9 s: those starting at -6, -4, -2, 0, 2 s (5 windows, ties of 1 and 2
        // each); windows containing 13 s: starting at 4, 6, 8, 10, 12 s (auction 3 alone).
        #expect(rows == Array(repeating: "1,2", count: 5) + Array(repeating: "2,2", count: 5) + Array(repeating: "3,1", count: 5))
    }

    @Test func q7FindsTheHighestBidsIncludingOneExactlyAtTheWindowsEnd() async throws {
        let rows = try await rows(
            .q7,
            [
                Self.bid(1, bidder: 2001, price: 50, at: 1_000), Self.bid(2, bidder: 2002, price: 70, at: 2_000),
                Self.bid(3, bidder: 2003, price: 70, at: 9_999),
                Self.bid(4, bidder: 2004, price: 70, at: 10_000),  // at the end of [0, 10 s): matches it, and is in [10 s, 20 s)
                Self.bid(5, bidder: 2005, price: 80, at: 15_000),  // the highest of [10 s, 20 s)
            ])
        #expect(
            rows == [
                "2,70,2002,2015-07-15 00:00:02.000,e", "3,70,2003,2015-07-15 00:00:09.999,e", "4,70,2004,2015-07-15 00:00:10.000,e",
                "5,80,2005,2015-07-15 00:00:15.000,e",
            ])
    }

    @Test func q8FindsPersonsWhoSoldInTheWindowTheyJoinedOnce() async throws {
        let rows = try await rows(
            .q8,
            [
                Self.person(1, "Ann", at: 1_000), Self.auction(10, seller: 1, at: 5_000), Self.auction(11, seller: 1, at: 6_000),
                Self.person(2, "Bob", at: 9_000), Self.auction(12, seller: 2, at: 11_000),  // the next window
            ])
        #expect(rows == ["1,Ann,2015-07-15 00:00:00.000"])
    }

    @Test func q9PicksTheHighestThenEarliestBidWhileTheAuctionWasOpen() async throws {
        let rows = try await rows(
            .q9,
            [
                Self.auction(1, seller: 1, at: 0, expires: 5_000), Self.auction(2, seller: 1, at: 0, expires: 5_000),
                Self.bid(1, bidder: 2001, price: 40, at: 1_000), Self.bid(1, bidder: 2002, price: 60, at: 3_000),
                Self.bid(1, bidder: 2003, price: 60, at: 2_000),  // arrives later, made earlier: wins the tie
                Self.bid(2, bidder: 2004, price: 99, at: 6_000),  // too late: auction 2 has no winner
            ])
        #expect(rows.count == 1)
        #expect(rows.first?.hasSuffix(",1,2003,60,2015-07-15 00:00:02.000,e") == true)
        #expect(rows.first?.hasPrefix("1,item1,d,1,2,2015-07-15 00:00:00.000,2015-07-15 00:00:05.000,1,10,x,") == true)
    }

    @Test func q11SessionsMergeBidsAtMostTenSecondsApart() async throws {
        let rows = try await rows(
            .q11,
            [Self.bid(1, bidder: 7, price: 1, at: 0), Self.bid(1, bidder: 7, price: 1, at: 10_000), Self.bid(1, bidder: 7, price: 1, at: 20_001)])
        #expect(rows == ["7,1,2015-07-15 00:00:20.001,2015-07-15 00:00:30.001", "7,2,2015-07-15 00:00:00.000,2015-07-15 00:00:20.000"])
    }

    @Test func q12CountsEveryBidInSomeProcessingTimeWindow() async throws {
        let events = (0..<50).map { Self.bid(1, bidder: Int64(2000 + $0 % 3), price: 1, at: Int64($0)) }
        let rows = try await rows(.q12, events)
        #expect(rows.map { Int($0.split(separator: ",")[1])! }.reduce(0, +) == 50)
        #expect(Set(rows.map { $0.split(separator: ",")[0] }) == ["2000", "2001", "2002"])
    }

    // MARK: the official sample

    /// Every query on the official generator's 10,000 events writes the reference's rows byte
    /// for byte (the large results are compared by row count and CRC-32).
    @Test func everyQueryMatchesTheReferenceOnTheOfficialSample() async throws {
        let out = directory.path("sample")
        let checksums: [Query: (rows: Int, crc: UInt32)] = [.q0: (9_200, 0xbe79_6444), .q1: (9_200, 0xda07_f7e9), .q9: (545, 0x4a66_04f7)]
        for query in Query.allCases where query.isDeterministic {
            let report = try await NexmarkJob(query: query, input: .file(Self.sample), outDirectory: out, configuration: ["work_dir": .string(directory.path("work"))]).run()
            #expect(report.events == 10_000)
            let written = try Data(contentsOf: URL(fileURLWithPath: report.csvPath))
            if let expected = checksums[query] {
                #expect(report.rows == expected.rows, "\(query)")
                #expect(CRC32.checksum([UInt8](written)) == expected.crc, "\(query)")
            } else {
                let reference = try Data(contentsOf: Self.fixtures.appendingPathComponent("nexmark-expected/\(query).csv"))
                #expect(String(decoding: written, as: UTF8.self) == String(decoding: reference, as: UTF8.self), "\(query)")
            }
        }
    }

    /// On generated events spanning many windows, every query's rows equal those of the same
    /// query written by hand as one loop over all the events.
    @Test func everyQueryMatchesItsHandWrittenLoopOnGeneratedEvents() async throws {
        let generator = EventGenerator(seed: 7, eventsPerSecond: 500)
        let count = 30_000
        for query in Query.allCases where query.isDeterministic {
            let env = try LocalEnvironment("generated-\(query)", config: ["work_dir": .string(directory.path("work"))])
            let sink = CollectSink<String>()
            query.build(Query.timestamped(env.fromSource(GeneratorSource(count: count) { generator.event(at: $0) }))).sink(sink)
            #expect(try await env.submit().status == .completed)
            var expected: [String] = []
            _ = HandWrittenQueries.run(query, count: count, event: { generator.event(at: $0) }) { expected.append($0) }
            #expect(!expected.isEmpty, "\(query) has rows")
            #expect(sink.values.sorted() == expected.sorted(), "\(query)")
        }
    }

    // MARK: exactly-once

    /// Checkpoints every few milliseconds and a failure that escalates to a restore in each
    /// query's last operator: the rows are those of a run without failures.
    @Test(.timeLimit(.minutes(2)), arguments: [Query.q3, .q4, .q5, .q7, .q8, .q9, .q11])
    func queryResultsAreExactlyOnceAcrossRestores(query: Query) async throws {
        // The sample's first 4,000 events keep the run short with checkpoints this frequent.
        let events = directory.path("events-4k.jsonl")
        let lines = try String(contentsOfFile: Self.sample, encoding: .utf8).split(separator: "\n").prefix(4_000)
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: events))
        let reference = try await NexmarkJob(
            query: query, input: .file(events), outDirectory: directory.path("reference"), configuration: ["work_dir": .string(directory.path("work"))]
        ).run()
        let faulty = try await NexmarkJob(
            query: query, input: .file(events), outDirectory: directory.path("faulty"), jobID: "faulty-\(query)",
            configuration: [
                "work_dir": .string(directory.path("work")), "batch_size": 64,
                "fault_tolerance": [
                    "strategy": "checkpoint", "checkpoint_interval": 0.005, "checkpoint_dir": .string(directory.path("chk")), "delay": 0,
                    "max_recovery_attempts": 10,
                ],
                "fault_injection": [["operator": .string(query.rawValue), "inject": "throw", "every_records": 40, "times": 2]],
            ]
        ).run()
        #expect(faulty.result.recoveries.count + faulty.result.restarts.count >= 1)
        let expected = try String(contentsOfFile: reference.csvPath, encoding: .utf8)
        let written = try String(contentsOfFile: faulty.csvPath, encoding: .utf8)
        #expect(written == expected)
    }
}
