import Foundation
import Tributary

/// The engine pinned to one core, measured in a child process of this benchmark (pinning this
/// process would pin every row): the child pins all its threads to the first CPU before any
/// work starts, runs one workload and prints one line the parent reads.
enum OneCore {
    static let flag = "--one-core-row"

    /// In the child: pins, runs `workload`, prints `ROW <count> <checksum> <peak bytes> <rate>...`.
    static func runChild(workload: String, records: Int, runs: Int) async throws {
        pinToFirstCore()
        let body: () async throws -> Outcome
        switch workload {
        case "W0": body = { try await W0.tributary(records: records) }
        case "W1": body = { try await W1.tributary(records: records) }
        case "W2": body = { try await W2.tributary(records: records) }
        default:
            FileHandle.standardError.write(Data("tributary-bench: \(flag) takes W0, W1 or W2, not '\(workload)'\n".utf8))
            exit(2)
        }
        let sample = try await Measure.rate(records: records, runs: runs, body)
        let rates = sample.rates.map { String($0) }.joined(separator: " ")
        print("ROW \(sample.outcome.count) \(sample.outcome.checksum) \(sample.peakMemoryBytes ?? -1) \(rates)")
    }

    /// In the parent: the child's sample, or `nil` (with the reason on standard error) when it
    /// could not run.
    static func sample(workload: String, records: Int, runs: Int) -> Sample? {
        do {
            let child = try SpawnedProcess(
                executable: CommandLine.arguments[0], arguments: [flag, workload, "--records", String(records), "--runs", String(runs)],
                standardOutput: .pipe)
            guard let descriptor = child.standardOutput else { return nil }
            let bytes = SpawnedProcess.readToEnd(descriptor)
            guard child.waitForExitBlocking() == .exited(0),
                let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("ROW ") })
            else { return nil }
            let fields = line.split(separator: " ").dropFirst()
            let numbers = fields.compactMap { Double($0) }
            guard numbers.count >= 4, fields.count == numbers.count else { return nil }
            let peak = Int(numbers[2])
            return Sample(
                rates: numbers.dropFirst(3).sorted(), outcome: Outcome(count: Int(numbers[0]), checksum: Int(numbers[1])),
                peakMemoryBytes: peak < 0 ? nil : peak)
        } catch {
            FileHandle.standardError.write(Data("tributary-bench: the one-core run of \(workload) could not start: \(error)\n".utf8))
            return nil
        }
    }

    /// Sets the affinity of every thread of this process (and so of the threads they start)
    /// to the first CPU this process may use.
    private static func pinToFirstCore() {
        #if os(Linux)
        var mask = [UInt64](repeating: 0, count: 16)
        mask[0] = 1
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for thread in threads.compactMap({ Int32($0) }) + [0] {
            _ = mask.withUnsafeBytes { glibcSchedSetAffinity(thread, $0.count, $0.baseAddress!) }
        }
        #endif
    }
}

#if os(Linux)
/// glibc's `sched_setaffinity`, which the Glibc module does not export.
@_silgen_name("sched_setaffinity")
func glibcSchedSetAffinity(_ thread: Int32, _ size: Int, _ mask: UnsafeRawPointer) -> Int32
#endif
