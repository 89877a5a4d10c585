import Foundation

/// The processors this process may run on: on Linux its CPU affinity (`taskset`, a container's
/// cpuset), which `ProcessInfo.activeProcessorCount` does not look at; elsewhere, or when the
/// affinity cannot be read, the active processor count.
enum AvailableCores {
    static var count: Int {
        let active = max(1, ProcessInfo.processInfo.activeProcessorCount)
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let allowed = cpuCount(list: line.dropFirst("Cpus_allowed_list:".count))
        {
            return max(1, min(active, allowed))
        }
        #endif
        return active
    }

    /// The CPUs in a Linux CPU list such as "0-3,8,10-11"; `nil` when it does not parse.
    static func cpuCount(list: Substring) -> Int? {
        var total = 0
        for part in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let low = Int(bounds[0]), bounds.count <= 2 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1]) : low
            guard let high, high >= low else { return nil }
            total += high - low + 1
        }
        return total > 0 ? total : nil
    }
}
