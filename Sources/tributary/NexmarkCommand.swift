import Foundation
import Nexmark
import Tributary

/// `tributary nexmark`: runs one Nexmark query (or all of them) on an event file or on
/// generated events, writes `<out>/<query>.csv`, and prints how fast it went.
enum NexmarkCommand {
    static let usage = """
        usage: tributary nexmark --query Q (--events FILE | --generate N) --out DIR [options]

        Runs a Nexmark query (q0 q1 q2 q3 q4 q5 q7 q8 q9 q11 q12, or 'all') and writes its final
        rows, sorted, to DIR/<query>.csv; prints events/s and the time to the result.

          --query Q                 the query, or 'all' for every one
          --events FILE             Nexmark events in JSON lines (the official generator's layout)
          --generate N              N events from the in-process generator instead
          --rate R                  generated events per second of event time (default 10000)
          --seed S                  the generator's seed (default 0)
          --out DIR                 where the CSV files go
          --checkpoint-interval S   checkpoint every S seconds (exactly-once across failures)
          --job-id ID               a fixed job id: running again after a kill resumes the job
          --help                    this text
        """

    /// Exit codes as sysexits: 64 usage, 66 missing input, 1 a job that failed.
    static func run(_ arguments: [String]) async -> Int32 {
        var rest = arguments[...]
        var queries: [Query]?
        var events: String?
        var generate: Int?
        var rate = 10_000
        var seed: UInt64 = 0
        var out: String?
        var interval: Double?
        var jobID: String?
        func usageError(_ message: String) -> Int32 {
            FileHandle.standardError.write(Data("error: \(message)\n\n\(usage)\n".utf8))
            return 64
        }
        while let flag = rest.popFirst() {
            if flag == "--help" || flag == "-h" {
                print(usage)
                return 0
            }
            guard let value = rest.popFirst() else { return usageError("\(flag) needs a value") }
            switch flag {
            case "--query":
                if value == "all" {
                    queries = Query.allCases
                } else if let query = Query(rawValue: value.lowercased()) {
                    queries = [query]
                } else {
                    return usageError("--query must be one of \(Query.allCases.map(\.rawValue).joined(separator: ", ")) or all, not '\(value)'")
                }
            case "--events": events = value
            case "--generate":
                guard let count = Int(value), count >= 0 else { return usageError("--generate needs a whole number of events, at least 0") }
                generate = count
            case "--rate":
                guard let value = Int(value), value > 0 else { return usageError("--rate needs a positive whole number of events per second") }
                rate = value
            case "--seed":
                guard let value = UInt64(value) else { return usageError("--seed needs a whole number, at least 0") }
                seed = value
            case "--out": out = value
            case "--checkpoint-interval":
                guard let value = Double(value), value > 0, value.isFinite else { return usageError("--checkpoint-interval needs a positive number of seconds") }
                interval = value
            case "--job-id": jobID = value
            default:
                return usageError("unknown option '\(flag)' (allowed: --query, --events, --generate, --rate, --seed, --out, --checkpoint-interval, --job-id)")
            }
        }
        guard let queries else { return usageError("--query is required") }
        guard let out else { return usageError("--out is required") }
        let input: NexmarkJob.Input
        switch (events, generate) {
        case (let path?, nil):
            guard FileManager.default.fileExists(atPath: path) else {
                FileHandle.standardError.write(Data("error: no event file at '\(path)'\n".utf8))
                return 66
            }
            input = .file(path)
        case (nil, let count?):
            input = .generated(count: count, EventGenerator(seed: seed, eventsPerSecond: rate))
        default:
            return usageError("give exactly one of --events FILE and --generate N")
        }
        for query in queries {
            let job = NexmarkJob(
                query: query, input: input, outDirectory: out, checkpointInterval: interval, jobID: jobID.map { queries.count > 1 ? "\($0)-\(query)" : $0 })
            do {
                let report = try await job.run()
                let seconds = Double(report.result.wallTime.components.seconds) + Double(report.result.wallTime.components.attoseconds) / 1e18
                print(
                    "\(query): \(report.events) events in \(String(format: "%.3f", seconds)) s (\(Int(report.eventsPerSecond.rounded())) events/s); \(report.rows) rows → \(report.csvPath)"
                )
            } catch {
                FileHandle.standardError.write(Data("error: \(query) failed: \(error)\n".utf8))
                return 1
            }
        }
        return 0
    }
}
