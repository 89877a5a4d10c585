import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exclusive ownership of a job's folder (or its checkpoints) by one process: an OS file
/// lock (`flock`) on a `.lock` file, which the kernel releases when the process dies, however it
/// dies — so a `kill -9` never leaves a job locked, and a live process is never doubted.
///
/// The file holds the owner's pid, for the message a second process gets. `flock` locks belong
/// to an open file description, so a second lock of the same job in the same process fails too.
final class JobLock: Sendable {
    let path: String
    private let descriptor: Int32

    /// Takes the lock at `folder/.lock`, creating the folder if needed.
    /// - Throws: ``JobLockedError`` when another process (or environment) holds it;
    ///   ``JobFolderError`` when the lock file cannot be created.
    init(folder: URL, jobID: String) throws {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent(".lock").path
        var descriptor: Int32 = -1
        // A lock taken on a file someone removed meanwhile (retention removing an ended job's
        // folder) locks nothing another process can see: take it again on the file there now.
        for _ in 0..<10 {
            descriptor = try Self.lock(path, jobID: jobID)
            var opened = stat()
            var named = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino, opened.st_dev == named.st_dev {
                break
            }
            close(descriptor)
            descriptor = -1
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        guard descriptor >= 0 else {
            throw JobFolderError(path: path, reason: "the job's lock file keeps being removed while it is taken")
        }
        self.descriptor = descriptor
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Opens `path` and takes its lock; returns the descriptor.
    private static func lock(_ path: String, jobID: String) throws -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw JobFolderError(path: path, reason: "cannot create the job's lock file (\(String(cString: strerror(errno))))")
        }
        // `isHeld` (tributary jobs list) takes a shared lock for a few microseconds: a start that
        // meets it retries briefly instead of reporting the job as owned.
        var attempts = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            attempts += 1
            if error == EINTR || (error == EWOULDBLOCK && attempts < 20) {
                usleep(1_000)
                continue
            }
            let holder = readPID(descriptor)
            close(descriptor)
            guard error == EWOULDBLOCK else {
                throw JobFolderError(path: path, reason: "cannot lock the job (\(String(cString: strerror(error))))")
            }
            throw JobLockedError(jobID: jobID, lockPath: path, holderPID: holder)
        }
        return descriptor
    }

    deinit {
        // Closing the descriptor releases the lock; the file stays (removing it would race with
        // a process that has just opened it).
        close(descriptor)
    }

    private static func readPID(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether some live process holds the lock at `folder/.lock` now (without taking it).
    static func isHeld(folder: URL) -> (held: Bool, pid: Int32?) {
        let path = folder.appendingPathComponent(".lock").path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return (false, nil) }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            _ = flock(descriptor, LOCK_UN)
            return (false, nil)
        }
        return (true, readPID(descriptor))
    }
}

/// Another process (or another environment in this one) is running the job: one process owns
/// a job at a time, so its output and checkpoints cannot be written twice.
public struct JobLockedError: Error, Sendable, CustomStringConvertible {
    public let jobID: String
    public let lockPath: String
    /// The process that holds the lock, when it could be read.
    public let holderPID: Int32?

    public var description: String {
        "job '\(jobID)' is already running in process \(holderPID.map(String.init) ?? "(unknown pid)") (it holds \(lockPath)); wait for it to end or stop it, or use another job_id"
    }
}
