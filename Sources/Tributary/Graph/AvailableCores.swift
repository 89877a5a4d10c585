import Foundation

/// The processors this process may run on: on Linux its CPU affinity (`taskset`, a container's
/// cpuset) and its cgroup's CPU quota (`docker --cpus`), which `ProcessInfo.activeProcessorCount`
/// does not look at; elsewhere, or when neither can be read, the active processor count.
enum AvailableCores {
    static var count: Int {
        var cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        #if os(Linux)
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }),
            let allowed = cpuCount(list: line.dropFirst("Cpus_allowed_list:".count))
        {
            cores = min(cores, allowed)
        }
        let quota: Int?
        if let v2 = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) {
            quota = cpuQuota(v2: v2)
        } else if let v1 = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding: .utf8),
            let period = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding: .utf8)
        {
            quota = cpuQuota(v2: v1.trimmingCharacters(in: .whitespacesAndNewlines) + " " + period)
        } else {
            quota = nil
        }
        if let quota { cores = min(cores, quota) }
        #endif
        return max(1, cores)
    }

    /// Whole CPUs a cgroup quota allows ("quota period" in microseconds, rounded up); `nil` for
    /// no limit ("max", or v1's -1) or text that does not parse.
    static func cpuQuota(v2 text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1]), quota > 0, period > 0 else { return nil }
        return max(1, (quota + period - 1) / period)
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
