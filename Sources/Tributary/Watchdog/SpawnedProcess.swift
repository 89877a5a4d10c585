import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, for the watchdog, the tests and the benchmarks.
///
/// Foundation's `Process.run()` on Linux (up to at least Swift 6.3) crashes now and then: it
/// lists `/proc/self/fd` and copies each directory entry's full 256-byte name field, reading
/// past glibc's buffer when an entry sits at its end (swift-corelibs-foundation PR 5472). A
/// process with many open files — a test suite running jobs — hits it within a few hundred
/// launches, so nothing in this package launches through `Process`.
///
/// The child gets every signal at its default disposition, an empty signal mask, and no file
/// descriptor of the parent beyond the three standard ones (where the platform can close the
/// rest at spawn): a child never holds a job lock or a pipe end of another child.
package final class SpawnedProcess: Sendable {
    /// Where one of the child's standard output streams goes.
    package enum Output: Sendable {
        case inherit
        case discard
        /// A pipe whose reading end is ``standardOutput`` / ``standardError``.
        case pipe
        /// Appends to the file, creating it.
        case append(toFile: String)
    }

    /// How the child ended.
    package enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        package var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "signal \(signal)"
            }
        }
    }

    package let pid: pid_t
    /// The reading end of the child's standard output when it is ``Output/pipe``; the reader
    /// owns it and closes it.
    package let standardOutput: Int32?
    /// The reading end of the child's standard error when it is ``Output/pipe``.
    package let standardError: Int32?
    private let termination = Mutex<Termination?>(nil)

    /// Whether a child is started without the parent's descriptors beyond 0–2 even when they
    /// lack close-on-exec (glibc 2.34 or later, Darwin).
    package static var closesInheritedDescriptors: Bool {
        #if canImport(Darwin)
        true
        #else
        PlatformSpawn.addCloseFrom != nil
        #endif
    }

    /// Starts `executable` with `arguments` (without the program name) in `workingDirectory`.
    /// - Throws: ``ProcessLaunchError`` naming the executable and the system's reason.
    /// A relative `executable` is taken from the current directory, not from `workingDirectory`.
    package init(
        executable: String, arguments: [String], workingDirectory: String? = nil,
        standardOutput: Output = .inherit, standardError: Output = .inherit
    ) throws {
        let path: String
        if executable.hasPrefix("/") {
            path = executable
        } else {
            let current = FileManager.default.currentDirectoryPath
            guard !current.isEmpty else {
                throw ProcessLaunchError(executable: executable, reason: "the path is relative and the current directory no longer exists")
            }
            path = current + "/" + executable
        }
        for case .append(let file) in [standardOutput, standardError] {
            let folder = (file as NSString).deletingLastPathComponent
            guard folder.isEmpty || FileManager.default.fileExists(atPath: folder) else {
                throw ProcessLaunchError(executable: executable, reason: "the folder of its output file \(file) does not exist")
            }
        }
        let launched = try Self.launchLock.withLock { _ in
            try Self.spawn(path, arguments, workingDirectory, standardOutput, standardError)
        }
        pid = launched.pid
        self.standardOutput = launched.outputPipe
        self.standardError = launched.errorPipe
    }

    /// Sends `signal` to the child unless it has been reaped (its pid may be reused then).
    package func send(_ signal: Int32) {
        termination.withLock { ended in
            if ended == nil { _ = kill(pid, signal) }
        }
    }

    /// Whether the child has ended (reaping it if so); never blocks.
    package var hasExited: Bool {
        termination.withLock { ended in
            Self.reap(pid, into: &ended)
            return ended != nil
        }
    }

    /// Blocks the calling thread until the child ends.
    ///
    /// The wait itself leaves the child a zombie (`WNOWAIT`), so its pid cannot be reused
    /// while ``send(_:)`` might signal it; the reap and the record of its status happen
    /// together under the lock.
    package func waitForExitBlocking() -> Termination {
        while termination.withLock({ $0 }) == nil {
            var info = siginfo_t()
            let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
            if result < 0, errno == EINTR { continue }
            termination.withLock { ended in
                Self.reap(pid, into: &ended)
                // Reaped by someone outside this type: the status is gone.
                if result < 0, ended == nil { ended = .exited(-1) }
            }
        }
        return termination.withLock { $0 } ?? .exited(-1)
    }

    /// Reaps the child if it has ended and records how; call under the lock.
    private static func reap(_ pid: pid_t, into ended: inout Termination?) {
        guard ended == nil else { return }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            ended = termination(from: status)
        } else if result < 0, errno == ECHILD {
            ended = .exited(-1)
        }
    }

    /// Reads `descriptor` (a pipe end from ``standardOutput`` or ``standardError``) until its
    /// writer closes it, retrying reads a signal interrupted, and closes it. Blocks the thread.
    package static func readToEnd(_ descriptor: Int32) -> [UInt8] {
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return bytes }
            bytes.append(contentsOf: buffer[..<count])
        }
    }

    /// Waits until the child ends, on a thread of its own: on Linux Swift's tasks run on
    /// Dispatch's global queue, so a `waitid` blocked there for a child's whole life would take
    /// one of the few threads (two on a two-core machine) the job's actors run on.
    package func waitForExit() async -> Termination {
        await withCheckedContinuation { continuation in
            let waiter = Thread { continuation.resume(returning: self.waitForExitBlocking()) }
            waiter.name = "tributary.wait.\(pid)"
            waiter.start()
        }
    }

    // MARK: - Spawning

    /// One launch at a time: the pipes are made close-on-exec right after they are created, and
    /// a concurrent spawn between the two steps would inherit them where the platform cannot
    /// close descriptors at spawn.
    private static let launchLock = Mutex(())

    private static func termination(from status: Int32) -> Termination {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], _ workingDirectory: String?, _ output: Output, _ error: Output
    ) throws -> (pid: pid_t, outputPipe: Int32?, errorPipe: Int32?) {
        func failure(_ what: String, _ code: Int32) -> ProcessLaunchError {
            ProcessLaunchError(executable: executable, reason: "\(what): \(String(cString: strerror(code)))")
        }
        #if canImport(Glibc)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var actions: posix_spawn_file_actions_t?
        var attributes: posix_spawnattr_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
            for descriptor in childEnds { close(descriptor) }
        }

        func route(_ stream: Output, to target: Int32) throws -> Int32? {
            switch stream {
            case .inherit:
                return nil
            case .discard:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
                return nil
            case .append(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                return nil
            case .pipe:
                var ends: [Int32] = [-1, -1]
                guard pipe(&ends) == 0 else { throw failure("cannot create a pipe", errno) }
                _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
                _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
                parentEnds.append(ends[0])
                childEnds.append(ends[1])
                posix_spawn_file_actions_adddup2(&actions, ends[1], target)
                return ends[0]
            }
        }
        let outputPipe: Int32?
        let errorPipe: Int32?
        do {
            outputPipe = try route(output, to: 1)
            errorPipe = try route(error, to: 2)
        } catch {
            for descriptor in parentEnds { close(descriptor) }
            throw error
        }
        #if canImport(Darwin)
        let flags = Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_CLOEXEC_DEFAULT)
        #else
        let flags = Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        // glibc 2.34 and later; on older ones only close-on-exec descriptors stay behind.
        if let closeFrom = PlatformSpawn.addCloseFrom { _ = closeFrom(&actions, 3) }
        #endif
        if let workingDirectory {
            guard let addChdir = PlatformSpawn.addChdir else {
                for descriptor in parentEnds { close(descriptor) }
                throw ProcessLaunchError(executable: executable, reason: "this system cannot start a process in another directory")
            }
            _ = addChdir(&actions, workingDirectory)
        }

        var everySignal = sigset_t()
        sigfillset(&everySignal)
        var noSignal = sigset_t()
        sigemptyset(&noSignal)
        posix_spawnattr_setsigdefault(&attributes, &everySignal)
        posix_spawnattr_setsigmask(&attributes, &noSignal)
        posix_spawnattr_setflags(&attributes, flags)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        #if canImport(Darwin)
        let environment = _NSGetEnviron().pointee
        #else
        let environment = environ
        #endif
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
        guard result == 0 else {
            for descriptor in parentEnds { close(descriptor) }
            throw failure("cannot start it", result)
        }
        return (pid, outputPipe, errorPipe)
    }
}

/// `posix_spawn` extensions that glibc (2.29, 2.34) has but its Swift module does not import;
/// looked up once at run time, absent on systems without them.
private enum PlatformSpawn {
    #if canImport(Glibc)
    typealias Actions = posix_spawn_file_actions_t
    #else
    typealias Actions = posix_spawn_file_actions_t?
    #endif
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<Actions>, UnsafePointer<CChar>) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<Actions>, Int32) -> Int32

    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: AddCloseFrom.self)
    }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        let this = dlopen(nil, RTLD_NOW)
        return dlsym(this, name)
    }
}
