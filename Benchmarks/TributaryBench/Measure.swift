import Foundation

/// Timing, memory and statistics helpers for the benchmark runs.
enum Measure {
    /// Runs `body` once to warm up, then `runs` times, and returns the median and spread of the
    /// rates in records per second.
    static func rate(records: Int, runs: Int, _ body: () async throws -> Outcome, isolation: isolated (any Actor)? = #isolation) async rethrows -> Sample {
        _ = try await body()
        var rates: [Double] = []
        var outcome = Outcome(count: 0, checksum: 0)
        resetPeakMemory()
        for _ in 0..<runs {
            let start = ContinuousClock.now
            outcome = try await body()
            let elapsed = (ContinuousClock.now - start)
            rates.append(Double(records) / seconds(elapsed))
        }
        return Sample(rates: rates.sorted(), outcome: outcome, peakMemoryBytes: peakMemory())
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Resets the kernel's high-water mark of this process's resident memory (Linux), so each
    /// measurement reports its own peak.
    static func resetPeakMemory() {
        #if os(Linux)
        // Give freed heap back first, so the new high-water mark starts from what is in use.
        _ = glibcMallocTrim(0)
        #endif
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// Peak resident memory since the last reset (Linux VmHWM), in bytes.
    static func peakMemory() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.split(separator: " ").compactMap { Int($0) }
            return digits.first.map { $0 * 1024 }
        }
        return nil
    }
}

struct Sample {
    /// Records per second, sorted.
    let rates: [Double]
    let outcome: Outcome
    let peakMemoryBytes: Int?

    var median: Double { rates[rates.count / 2] }
    var spread: (low: Double, high: Double) { (rates.first ?? 0, rates.last ?? 0) }
}

#if os(Linux)
/// glibc's `malloc_trim`, which the Glibc module does not export.
@_silgen_name("malloc_trim")
func glibcMallocTrim(_ pad: Int) -> Int32
#endif
