import Foundation
import Synchronization

/// A started `tributary torture-child` process and the lines of its standard output. Its
/// standard error (a killed child's last words, a crash report) goes to a file in the seed's
/// folder, out of the test's output.
final class TortureChildProcess: Sendable {
    let process: Process
    let lines: AsyncStream<String>

    init(executable: URL, arguments: [String], standardError: URL) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        _ = FileManager.default.createFile(atPath: standardError.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: standardError)
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = Mutex("")
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete = pending.withLock { buffer -> [String] in
                buffer += String(decoding: data, as: UTF8.self)
                var lines = buffer.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                buffer = lines.removeLast()
                return lines
            }
            for line in complete { continuation.yield(line) }
        }
        self.process = process
        self.lines = lines
        try process.run()
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
    }

    /// The exit status, or the signal that ended the process (negated).
    func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                let status = self.process.terminationStatus
                continuation.resume(returning: self.process.terminationReason == .uncaughtSignal ? -status : status)
            }
        }
    }
}
