import Foundation
import Tributary

/// Reads Nexmark events from a JSON-lines file, one event per line (see ``EventParser`` for the
/// layout), in file order.
///
/// The file is read in chunks of ``chunkSize`` bytes and each line is parsed in place, so a
/// line costs no copy and no allocation beyond its event's strings. Lines end with `\n`; a
/// `\r` before it is dropped, empty lines are skipped, and the last line needs no terminator.
///
/// Replayable: the position is the byte offset of the next unread line, so a reader started
/// from a checkpointed position continues with exactly the next event.
///
/// Failures, each an ``EventFileSourceError``: the job fails when it starts if the file cannot
/// be opened, ``chunkSize`` is below 1, or the position is outside `0...fileSize`; a read fails
/// on an I/O error, or on a line that is not an event, naming the file, the line and the
/// ``NexmarkParseError``. A failed line is not consumed: ``Reader/position`` stays at its start.
public struct EventFileSource: Source {
    public typealias Element = Event
    public typealias Position = Int

    public let path: String
    /// How many bytes one read of the file asks for; default 1 MiB. Lines longer than a chunk
    /// are fine: the reader keeps reading until the line ends.
    public let chunkSize: Int

    /// A source for the file at `path`; nothing is opened or checked until a reader is made.
    public init(path: String, chunkSize: Int = 1 << 20) {
        self.path = path
        self.chunkSize = chunkSize
    }

    /// Opens the file and seeks to `position` (the start when `nil`).
    /// - Throws: ``EventFileSourceError`` with code `invalidChunkSize`, `cannotOpen`,
    ///   `invalidStartPosition` (outside `0...fileSize`) or `readFailed` (the seek failed).
    public func makeReader(startingAt position: Int?) throws -> Reader {
        guard chunkSize > 0 else {
            throw EventFileSourceError(.invalidChunkSize, path: path, reason: "chunkSize is \(chunkSize), but it must be 1 or more")
        }
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        } catch {
            throw EventFileSourceError(
                .cannotOpen, path: path,
                reason: "cannot open the file for reading (\(error.localizedDescription)); check the path and its permissions")
        }
        // Owned from here on, so the file is closed on every path out, thrown or returned.
        let file = OpenEventFile(handle)
        let start = position ?? 0
        let size: UInt64
        do {
            size = try handle.seekToEnd()
        } catch {
            throw EventFileSourceError(.readFailed, path: path, reason: "cannot find the file's size (\(error.localizedDescription))")
        }
        guard start >= 0, UInt64(start) <= size else {
            throw EventFileSourceError(
                .invalidStartPosition, path: path, byteOffset: start,
                reason:
                    "cannot start at byte \(start): the file has \(size) bytes (allowed: 0...\(size)); resume only from a position this source reported for the same file"
            )
        }
        do {
            try handle.seek(toOffset: UInt64(start))
        } catch {
            throw EventFileSourceError(
                .readFailed, path: path, byteOffset: start, reason: "cannot seek to byte \(start) (\(error.localizedDescription))")
        }
        return Reader(path: path, file: file, chunkSize: chunkSize, start: start)
    }

    /// Reads the file's lines as events, batch by batch.
    public struct Reader: SourceReader {
        public typealias Element = Event
        public typealias Position = Int

        let path: String
        let file: OpenEventFile
        let chunkSize: Int
        /// Bytes read and not yet returned as events; `pending[cursor...]` starts at `position`.
        var pending: [UInt8] = []
        var cursor = 0
        /// `pending[cursor..<scanned]` holds no newline, so a line longer than a chunk is not
        /// searched again from its start after every refill.
        var scanned = 0
        var reachedEnd = false
        /// The 1-based number of the line at `position`, known only when reading began at the
        /// start of the file; a reader resumed mid-file names lines by byte offset instead.
        var lineNumber: Int?
        /// The byte offset of the next unread line.
        public private(set) var position: Int

        init(path: String, file: OpenEventFile, chunkSize: Int, start: Int) {
            self.path = path
            self.file = file
            self.chunkSize = chunkSize
            self.position = start
            self.lineNumber = start == 0 ? 1 : nil
            // A huge chunkSize must not become a huge up-front allocation; the array grows if needed.
            pending.reserveCapacity(min(chunkSize, 1 << 24))
        }

        /// Appends up to `limit.maxCount` events, reading more of the file as needed.
        /// - Returns: `false` once the file is exhausted, `true` while lines may remain.
        /// - Throws: ``EventFileSourceError`` `readFailed` or `malformedLine`; the failing line
        ///   is not consumed, and events of the lines before it in this batch are appended.
        public mutating func read(into buffer: inout [Event], limit: ReadLimit) async throws -> Bool {
            var produced = 0
            while produced < limit.maxCount {
                produced += try readCompleteLines(into: &buffer, maxCount: limit.maxCount - produced)
                if produced >= limit.maxCount { break }
                // No complete line is left in `pending`.
                if reachedEnd {
                    try readUnterminatedLastLine(into: &buffer)
                    return false
                }
                try refill()
            }
            return !(reachedEnd && cursor == pending.count)
        }

        /// Parses the complete lines in `pending`, up to `maxCount` events.
        private mutating func readCompleteLines(into buffer: inout [Event], maxCount: Int) throws(EventFileSourceError) -> Int {
            // The scan works on copies so the closure below borrows only `pending`, not `self`.
            var cursor = self.cursor
            var scanned = self.scanned
            var position = self.position
            var lineNumber = self.lineNumber
            var produced = 0
            var failure: EventFileSourceError?
            let path = self.path
            pending.withUnsafeBufferPointer { bytes in
                while produced < maxCount {
                    guard let newline = Self.firstNewline(in: bytes, from: scanned) else {
                        scanned = bytes.count
                        return
                    }
                    var end = newline
                    if end > cursor, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    if end > cursor {
                        let line = UnsafeBufferPointer(rebasing: bytes[cursor..<end])
                        switch Self.parse(line, path: path, lineNumber: lineNumber, byteOffset: position) {
                        case .success(let event):
                            buffer.append(event)
                            produced += 1
                        case .failure(let error):
                            failure = error
                            return
                        }
                    }
                    position += newline + 1 - cursor
                    cursor = newline + 1
                    scanned = cursor
                    lineNumber = lineNumber.map { $0 + 1 }
                }
            }
            self.cursor = cursor
            self.scanned = scanned
            self.position = position
            self.lineNumber = lineNumber
            if let failure { throw failure }
            return produced
        }

        /// Parses what remains of `pending` once the file has ended: a last line without `\n`.
        private mutating func readUnterminatedLastLine(into buffer: inout [Event]) throws(EventFileSourceError) {
            guard cursor < pending.count else { return }
            let start = cursor
            var end = pending.count
            if end > start, pending[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if end > start {
                let path = self.path
                let number = self.lineNumber
                let offset = self.position
                let result = pending.withUnsafeBufferPointer { bytes in
                    Self.parse(UnsafeBufferPointer(rebasing: bytes[start..<end]), path: path, lineNumber: number, byteOffset: offset)
                }
                switch result {
                case .success(let event): buffer.append(event)
                case .failure(let error): throw error
                }
            }
            position += pending.count - start
            cursor = pending.count
            scanned = cursor
            lineNumber = lineNumber.map { $0 + 1 }
        }

        /// Drops the consumed bytes and appends the next chunk of the file, or notes its end.
        private mutating func refill() throws(EventFileSourceError) {
            // Only the unfinished line moves to the front, once per refill, and a line spanning
            // several chunks moves at most once (later refills find cursor at 0).
            if cursor > 0 {
                pending.removeFirst(cursor)
                scanned -= cursor
                cursor = 0
            }
            let chunk: Data?
            do {
                chunk = try file.handle.read(upToCount: chunkSize)
            } catch {
                let offset = position + pending.count
                throw EventFileSourceError(
                    .readFailed, path: path, byteOffset: offset, reason: "read failed at byte \(offset) (\(error.localizedDescription))")
            }
            guard let chunk, !chunk.isEmpty else {
                reachedEnd = true
                return
            }
            pending.append(contentsOf: chunk)
        }

        private static func parse(
            _ line: UnsafeBufferPointer<UInt8>, path: String, lineNumber: Int?, byteOffset: Int
        ) -> Result<Event, EventFileSourceError> {
            do throws(NexmarkParseError) {
                return .success(try EventParser.parse(line))
            } catch {
                return .failure(EventFileSourceError(malformedLine: error, path: path, lineNumber: lineNumber, byteOffset: byteOffset))
            }
        }

        /// The index of the first `\n` at or after `start`, or `nil`.
        ///
        /// Tests eight bytes at a time: `(w - 0x01…) & ~w & 0x80…` is non-zero exactly when
        /// some byte of `w` is zero, here after XOR with `\n` in every byte. A hit falls through
        /// to the byte loop, which finds the exact index.
        static func firstNewline(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
            var position = max(0, start)
            if let base = bytes.baseAddress {
                let raw = UnsafeRawPointer(base)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let highBits: UInt64 = 0x8080_8080_8080_8080
                let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
                while bytes.count - position >= 8 {
                    let zeros = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self) ^ newlines
                    if (zeros &- ones) & ~zeros & highBits != 0 { break }
                    position += 8
                }
            }
            while position < bytes.count {
                if bytes[position] == UInt8(ascii: "\n") { return position }
                position += 1
            }
            return nil
        }
    }
}

/// An open event file, closed when the last copy of its reader goes away.
final class OpenEventFile {
    let handle: FileHandle

    init(_ handle: FileHandle) {
        self.handle = handle
    }

    deinit {
        try? handle.close()
    }
}

/// An ``EventFileSource`` could not open its file, start where asked, read, or parse a line.
///
/// ```
/// EventFileSource '/data/events.jsonl': line 42 (byte offset 13377) is not a Nexmark event: invalid number in bid.price at column 90: ...
/// ```
public struct EventFileSourceError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case cannotOpen, invalidChunkSize, invalidStartPosition, readFailed, malformedLine
        }

        private let kind: Kind

        /// The file does not exist or cannot be read.
        public static let cannotOpen = Code(kind: .cannotOpen)
        /// ``EventFileSource/chunkSize`` is below 1.
        public static let invalidChunkSize = Code(kind: .invalidChunkSize)
        /// The start position is negative or beyond the end of the file.
        public static let invalidStartPosition = Code(kind: .invalidStartPosition)
        /// Finding the size, seeking or reading failed.
        public static let readFailed = Code(kind: .readFailed)
        /// A line is not a Nexmark event; ``EventFileSourceError/parseError`` says why.
        public static let malformedLine = Code(kind: .malformedLine)

        public var description: String {
            switch kind {
            case .cannotOpen: "cannot open"
            case .invalidChunkSize: "invalid chunk size"
            case .invalidStartPosition: "invalid start position"
            case .readFailed: "read failed"
            case .malformedLine: "malformed line"
            }
        }
    }

    public let code: Code
    public let path: String
    /// The 1-based number of the malformed line; `nil` for other failures and when the reader
    /// started mid-file, where lines before the start were never counted.
    public let lineNumber: Int?
    /// The byte offset in the file of the malformed line, the start position or the failed read.
    public let byteOffset: Int?
    /// Why the line is not an event, for ``Code/malformedLine``.
    public let parseError: NexmarkParseError?
    /// What went wrong and, where it helps, what to do about it.
    public let reason: String

    public var description: String {
        "EventFileSource '\(path)': \(reason)"
    }

    init(_ code: Code, path: String, byteOffset: Int? = nil, reason: String) {
        self.code = code
        self.path = path
        self.lineNumber = nil
        self.byteOffset = byteOffset
        self.parseError = nil
        self.reason = reason
    }

    init(malformedLine parseError: NexmarkParseError, path: String, lineNumber: Int?, byteOffset: Int) {
        self.code = .malformedLine
        self.path = path
        self.lineNumber = lineNumber
        self.byteOffset = byteOffset
        self.parseError = parseError
        let line = lineNumber.map { "line \($0) (byte offset \(byteOffset))" } ?? "the line at byte offset \(byteOffset)"
        self.reason = "\(line) is not a Nexmark event: \(parseError)"
    }
}
