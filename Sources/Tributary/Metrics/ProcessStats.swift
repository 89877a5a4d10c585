import Foundation

/// The process's own figures, read from `/proc/self` (Linux) and the file systems: CPU time,
/// resident memory, open files, free disk. A figure the system does not give reads as 0 or `nil`.
struct ProcessStats {
    /// User plus system CPU time so far.
    static func cpuTime() -> Duration {
        var usage = rusage()
        #if os(Linux)
        let who = RUSAGE_SELF.rawValue
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return .zero }
        func seconds(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Resident memory now, in bytes.
    static func residentBytes() -> Int {
        #if os(Linux)
        // statm: size resident shared text lib data dt, in pages.
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
        var usage = rusage()
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
        #endif
    }

    /// Open file descriptors now.
    static func openFiles() -> Int {
        #if os(Linux)
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count ?? 1) - 1
        #else
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/fd"))?.count ?? 1) - 1
        #endif
    }

    /// Free bytes on the file system that holds `path` (or its nearest existing parent).
    static func freeBytes(at path: String) -> Int? {
        var url = URL(fileURLWithPath: path)
        for _ in 0..<64 where !FileManager.default.fileExists(atPath: url.path) {
            url.deleteLastPathComponent()
        }
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: url.path),
            let free = attributes[.systemFreeSize] as? NSNumber
        else { return nil }
        return free.intValue
    }
}
