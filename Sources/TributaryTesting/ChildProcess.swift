import Foundation
import Synchronization
import Tributary

/// A started child process and the lines of its standard output, for tests that run a job in
/// another process (and kill it). Its standard error goes to a file (a killed or trapping
/// child's last words stay out of the test's output).
///
/// Output is read by a plain blocking loop on a thread of its own that retries reads
/// interrupted by a signal: Foundation's `availableData` traps on `EINTR`, which the `SIGCHLD`
/// of another child can cause.
public final class ChildProcess: Sendable {
    /// The child's process id.
    public let processIdentifier: Int32
    /// The child's standard output, line by line; finishes when the child closes it.
    public let lines: AsyncStream<String>
    private let process: SpawnedProcess

    /// Everything the child writes to the stream read, until it closes it.
    public func text() async -> String {
        var text = ""
        for await line in lines { text += line + "\n" }
        return text
    }

    /// Starts `executable` with `arguments` in `folder`.
    /// - Parameters:
    ///   - standardError: a file the child's standard error is appended to; `nil` discards it.
    ///   - readingStandardError: read the child's standard error as ``lines`` instead (its
    ///     standard output is then discarded).
    public init(
        executable: URL, arguments: [String], in folder: URL? = nil, standardError: URL? = nil, readingStandardError: Bool = false
    ) throws {
        let errorStream: SpawnedProcess.Output = readingStandardError ? .pipe : standardError.map { .append(toFile: $0.path) } ?? .discard
        let process = try SpawnedProcess(
            executable: executable.path, arguments: arguments, workingDirectory: folder?.path,
            standardOutput: readingStandardError ? .discard : .pipe, standardError: errorStream)
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        self.process = process
        self.processIdentifier = process.pid
        self.lines = lines
        guard let descriptor = readingStandardError ? process.standardError : process.standardOutput else {
            continuation.finish()
            return
        }
        // A thread of its own: a read blocked for the child's whole life on Dispatch's global
        // queue would take one of the threads Swift's tasks (the test and the job) run on.
        Thread {
            var pending = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                pending.append(contentsOf: buffer[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
            continuation.finish()
            close(descriptor)
        }.start()
    }

    /// Ends the child with SIGKILL.
    public func kill() {
        process.send(SIGKILL)
    }

    /// Sends `signal` to the child (unless it has been reaped).
    public func send(_ signal: Int32) {
        process.send(signal)
    }

    /// The exit status, or the signal that ended the process, negated. Waits off the
    /// cooperative pool.
    public func waitForExit() async -> Int32 {
        switch await process.waitForExit() {
        case .exited(let status): status
        case .signalled(let signal): -signal
        }
    }
}
