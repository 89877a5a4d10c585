import Foundation
import Synchronization

/// Writes one line per record (`format(record)` followed by `\n`) to a text file.
///
/// - Important: with `strategy: "checkpoint"` the sink is exactly-once: each instance stages
///   its lines, seals them at every checkpoint barrier, and a completed checkpoint appends the
///   sealed lines to the file (see `FileSinkTransactions`): the file holds only committed output,
///   never a duplicate line and never a partial one, also after a `kill -9` and a resume.
///   Without checkpoints, each batch is appended at once with a single `write` of whole lines,
///   and the file is truncated when the job's first sink instance starts.
public final class FileSink<Element: Sendable>: Sink, Sendable {
    public let path: String
    let format: @Sendable (Element) throws -> String

    private struct State {
        var handle: FileHandle?
        var jobID: String?
        var openWriters = 0
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - path: the output file; with checkpoints, a hidden side folder `.<name>.tributary` next
    ///     to it (for `out.txt`: `.out.txt.tributary`)
    ///     holds the staged and sealed lines until they are committed.
    ///   - format: the text of one record's line; by default `String(describing:)`. It may
    ///     throw: that is a failure of the sink like any other (its supervision applies), and
    ///     nothing of the batch it was formatting is written or staged.
    public init(path: String, format: @escaping @Sendable (Element) throws -> String = { String(describing: $0) }) {
        self.path = path
        self.format = format
    }

    /// Without checkpoints, the first writer of a job truncates the file; a writer made again in
    /// the same job (a restarted sink instance) appends to what was written. With checkpoints,
    /// writers stage their lines and the file changes only by commits.
    public func makeWriter(_ context: SinkContext) throws -> Writer {
        if context.deliversCommits {
            return Writer(sink: self, staged: try StagedLines(transactions.openFile(instance: context.instance), instance: context.instance))
        }
        try state.withLock { state in
            if state.handle == nil || state.jobID != context.jobID {
                try? state.handle?.close()
                let url = URL(fileURLWithPath: path)
                let truncate = state.jobID != context.jobID
                do {
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    if truncate || !FileManager.default.fileExists(atPath: path) {
                        guard FileManager.default.createFile(atPath: path, contents: nil) else {
                            throw FileSinkError(path: path, reason: "cannot create the file")
                        }
                    }
                    let handle = try FileHandle(forWritingTo: url)
                    try handle.seekToEnd()
                    state.handle = handle
                } catch let error as FileSinkError {
                    throw error
                } catch {
                    throw FileSinkError(path: path, reason: "cannot open the file for writing (\(error.localizedDescription))")
                }
                state.jobID = context.jobID
                state.openWriters = 0
            }
            state.openWriters += 1
        }
        return Writer(sink: self, staged: nil)
    }

    private var transactions: FileSinkTransactions { FileSinkTransactions(path: path) }

    public func commit(upTo epoch: Int64, context: SinkContext) throws {
        try state.withLock { _ in
            do {
                try transactions.commit(upTo: epoch)
            } catch let error as FileSinkError {
                throw error
            } catch {
                throw FileSinkError(path: path, reason: "cannot commit epoch \(epoch) (\(error.localizedDescription))")
            }
        }
    }

    public func recover(lastCompleted epoch: Int64?, context: SinkContext) throws {
        try state.withLock { _ in
            do {
                try transactions.recover(lastCompleted: epoch)
            } catch let error as FileSinkError {
                throw error
            } catch {
                throw FileSinkError(path: path, reason: "cannot recover to checkpoint \(epoch.map(String.init) ?? "none") (\(error.localizedDescription))")
            }
        }
    }

    fileprivate func append(_ text: String) throws {
        try state.withLock { state in
            guard let handle = state.handle else { throw FileSinkError(path: path, reason: "the file was closed") }
            do {
                try handle.write(contentsOf: Data(text.utf8))
            } catch {
                throw FileSinkError(path: path, reason: "write failed (\(error.localizedDescription))")
            }
        }
    }

    fileprivate func closeWriter() throws {
        try state.withLock { state in
            state.openWriters -= 1
            guard state.openWriters == 0, let handle = state.handle else { return }
            state.handle = nil
            do {
                try handle.synchronize()
                try handle.close()
            } catch {
                throw FileSinkError(path: path, reason: "cannot flush the file (\(error.localizedDescription))")
            }
        }
    }

    public struct Writer: SinkWriter {
        let sink: FileSink
        /// Set when commits are delivered: this instance's staging file.
        let staged: StagedLines?

        public mutating func write(_ records: [Element]) throws {
            var text = ""
            for record in records {
                text += try sink.format(record)
                text += "\n"
            }
            if let staged {
                try staged.append(text)
            } else {
                try sink.append(text)
            }
        }

        public mutating func preCommit(epoch: Int64) throws {
            try staged?.seal(as: sink.transactions.sealedFile(epoch: epoch, instance: staged?.instance ?? 0))
        }

        public mutating func close() throws {
            if let staged {
                try staged.close()
            } else {
                try sink.closeWriter()
            }
        }
    }
}

/// A ``FileSink`` could not open or write its file.
public struct FileSinkError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "FileSink '\(path)': \(reason)" }
}

/// One sink instance's staging file: lines written since its last seal.
///
/// A writer made again for the same instance (a restart after a sink failure) goes on with the
/// file its predecessor left: those lines belong to the epoch still open and are sealed with it.
/// Stale staging files of an earlier run never reach a new writer: recovery deletes them first.
final class StagedLines {
    let url: URL
    let instance: Int
    private var handle: FileHandle?

    init(_ url: URL, instance: Int) throws {
        self.url = url
        self.instance = instance
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    }

    func append(_ text: String) throws {
        let handle = try self.handle ?? open()
        let offset = try handle.offset()
        do {
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            // The runtime retries the batch after a restart: a partial write left here would
            // put half a line before the whole one.
            try? handle.truncate(atOffset: offset)
            throw error
        }
    }

    /// Opens the staging file at its end, creating it if there is none.
    private func open() throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw FileSinkError(path: url.path, reason: "cannot create the staging file")
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        self.handle = handle
        return handle
    }

    /// Syncs what was written and renames it to `sealed` (nothing to do when nothing was written).
    func seal(as sealed: URL) throws {
        // A restarted writer has no handle yet but may hold its predecessor's lines.
        guard handle != nil || FileManager.default.fileExists(atPath: url.path) else { return }
        let handle = try self.handle ?? open()
        try handle.synchronize()
        try handle.close()
        self.handle = nil
        try? FileManager.default.removeItem(at: sealed)
        try FileManager.default.moveItem(at: url, to: sealed)
        DurableFile.syncFolder(url.deletingLastPathComponent())
    }

    func close() throws {
        try handle?.close()
        handle = nil
    }
}
