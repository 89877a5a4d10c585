import Foundation

/// Reads a UTF-8 text file line by line (without the line terminator; `\r\n` is accepted).
/// Its position is the byte offset of the next unread line, so a reader started from a
/// checkpointed position continues with exactly the next line.
public struct FileSource: Source {
    public typealias Element = String
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func makeReader(startingAt position: Int64?) throws -> Reader {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw FileSourceError(path: path, reason: "cannot open the file for reading (\(error.localizedDescription))")
        }
        let start = position ?? 0
        if start != 0 {
            let size = try handle.seekToEnd()
            guard start >= 0, UInt64(start) <= size else {
                throw FileSourceError(path: path, reason: "cannot start at byte \(start): the file has \(size) bytes")
            }
            try handle.seek(toOffset: UInt64(start))
        }
        return Reader(path: path, file: ReadableFile(handle), position: start)
    }

    public struct Reader: SourceReader {
        let path: String
        let file: ReadableFile
        /// Bytes read from the file and not yet returned as lines; `cursor` is the first unread one.
        var pending: [UInt8] = []
        var cursor = 0
        /// Where the search for the next line end resumes: `pending[cursor..<scanned]` holds no
        /// newline. Without it a line longer than a chunk was searched again from its start after
        /// every refill, quadratic in the line's length.
        var scanned = 0
        var reachedEnd = false
        public private(set) var position: Int64
        /// Bytes examined while looking for line ends, over the reader's life (for tests).
        var bytesScannedForNewlines = 0

        init(path: String, file: ReadableFile, position: Int64) {
            self.path = path
            self.file = file
            self.position = position
        }

        public mutating func read(into buffer: inout [String], limit: ReadLimit) async throws -> Bool {
            var produced = 0
            while produced < limit.maxCount {
                let found = pending[scanned...].firstIndex(of: UInt8(ascii: "\n"))
                bytesScannedForNewlines += (found.map { $0 + 1 } ?? pending.count) - scanned
                if let newline = found {
                    try appendLine(pending[cursor..<newline], to: &buffer)
                    position += Int64(newline - cursor + 1)
                    cursor = newline + 1
                    scanned = cursor
                    produced += 1
                } else if reachedEnd {
                    if cursor < pending.count {
                        try appendLine(pending[cursor...], to: &buffer)
                        position += Int64(pending.count - cursor)
                        cursor = pending.count
                    }
                    scanned = pending.count
                    return false
                } else {
                    scanned = pending.count
                    try refill()
                }
            }
            return true
        }

        private mutating func refill() throws {
            // Dropping the returned lines moves the unread rest to the front; doing it only once
            // they are at least half the buffer keeps the bytes moved no more than the bytes
            // dropped, so the moving stays linear in the file size too.
            if cursor > 0, cursor >= pending.count - cursor {
                pending.removeFirst(cursor)
                scanned -= cursor
                cursor = 0
            }
            let chunk: Data?
            do {
                chunk = try file.handle.read(upToCount: 64 * 1024)
            } catch {
                throw FileSourceError(path: path, reason: "read failed at byte \(position) (\(error.localizedDescription))")
            }
            guard let chunk, !chunk.isEmpty else {
                reachedEnd = true
                return
            }
            pending.append(contentsOf: chunk)
        }

        private func appendLine(_ bytes: ArraySlice<UInt8>, to buffer: inout [String]) throws {
            var bytes = bytes
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            guard let line = String(validating: bytes, as: UTF8.self) else {
                throw FileSourceError(path: path, reason: "the line at byte \(position) is not valid UTF-8")
            }
            buffer.append(line)
        }
    }
}

/// An open file that is closed when the last reader copy goes away.
final class ReadableFile {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
    deinit { try? handle.close() }
}

/// A ``FileSource`` could not open or read its file.
public struct FileSourceError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "FileSource '\(path)': \(reason)" }
}
