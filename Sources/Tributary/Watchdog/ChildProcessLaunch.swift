import Foundation
import Synchronization

/// Starts child processes one at a time. Foundation's `Process.run()` on Linux is not safe to
/// call from several threads at once (seen: a crash copying memory inside it while tests and
/// the watchdog launched children concurrently), so every launch in this package goes through
/// one lock.
package enum ChildProcessLaunch {
    private static let lock = Mutex(())

    package static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
