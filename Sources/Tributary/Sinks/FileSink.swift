import Foundation
import Synchronization

/// Writes one line per record (`format(record)` followed by `\n`) to a text file.
///
/// Every batch is written with a single `write` of whole lines, so the file never holds a
/// partial line from a batch that was written, and instances of a parallel sink share the file
/// without interleaving inside a line. The file is truncated when the job's first sink instance
/// starts; `close` of the last instance syncs it to disk.
public final class FileSink<Element: Sendable>: Sink, Sendable {
    public let path: String
    let format: @Sendable (Element) -> String

    private struct State {
        var handle: FileHandle?
        var jobID: String?
        var openWriters = 0
    }

    private let state = Mutex(State())

    /// - Parameter format: the text of one record's line; by default `String(describing:)`.
    public init(path: String, format: @escaping @Sendable (Element) -> String = { String(describing: $0) }) {
        self.path = path
        self.format = format
    }

    /// The first writer of a job truncates the file; a writer made again in the same job (a
    /// restarted sink instance) appends to what was written.
    public func makeWriter(_ context: SinkContext) throws -> Writer {
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
        return Writer(sink: self)
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

        public mutating func write(_ records: [Element]) throws {
            var text = ""
            for record in records {
                text += sink.format(record)
                text += "\n"
            }
            try sink.append(text)
        }

        public mutating func close() throws {
            try sink.closeWriter()
        }
    }
}

/// A ``FileSink`` could not open or write its file.
public struct FileSinkError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "FileSink '\(path)': \(reason)" }
}
