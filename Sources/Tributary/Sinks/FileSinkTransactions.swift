import Foundation

/// The two-phase commit of a ``FileSink`` under checkpoints, on disk next to the output file:
///
/// ```
/// out.txt                                    committed output only
/// .out.txt.tributary/open-<instance>         written since the instance's last seal
/// .out.txt.tributary/epoch-<n>-<instance>    sealed for checkpoint n, waiting for its commit
/// .out.txt.tributary/commits.json            what was published, at which offsets (atomic)
/// ```
///
/// Committing epoch n first records its intent (the offset the output had and the files to
/// append) atomically, then appends, syncs, records it done and deletes the sealed files. A
/// crash at any point is repaired by redoing a recorded intent from its offset, so the output
/// never holds a partial line or a duplicate. Because the offsets of published epochs are
/// kept, recovery to an earlier checkpoint can also take back what later epochs published.
///
/// Recovery trusts these files only after checking them against the output: a missing or
/// unreadable log, an output shorter than the log says, or committed lines whose checksum no
/// longer matches are errors that ask the user to restore the files or start a new job id, never
/// guessed around; bytes past the last commit that no intent accounts for are cut back.
struct FileSinkTransactions {
    struct Log: Codable {
        struct Entry: Codable {
            var epoch: Int64
            var offsetBefore: UInt64
            var offsetAfter: UInt64
            /// CRC-32 of the bytes the epoch appended; `nil` in logs written before it was kept.
            var crc32: UInt32?
        }

        struct Intent: Codable {
            var epoch: Int64
            var offsetBefore: UInt64
            var files: [String]
        }

        var committed: [Entry] = []
        var intent: Intent?
    }

    let output: URL
    let staging: URL
    /// Writes one chunk of a commit to the output; tests replace it to make an append fail
    /// midway, as a full disk would.
    var writeChunk: (_ chunk: Data, _ handle: FileHandle) throws -> Void = { chunk, handle in try handle.write(contentsOf: chunk) }

    init(path: String) {
        output = URL(fileURLWithPath: path)
        staging = output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).tributary")
    }

    var logURL: URL { staging.appendingPathComponent("commits.json") }

    func openFile(instance: Int) -> URL { staging.appendingPathComponent("open-\(instance)") }

    func sealedFile(epoch: Int64, instance: Int) -> URL { staging.appendingPathComponent("epoch-\(epoch)-\(instance)") }

    /// Sealed files as (epoch, instance, url).
    func sealedFiles() throws -> [(epoch: Int64, instance: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []
        return names.compactMap { name in
            let parts = name.split(separator: "-")
            guard parts.count == 3, parts[0] == "epoch", let epoch = Int64(parts[1]), let instance = Int(parts[2]) else { return nil }
            return (epoch, instance, staging.appendingPathComponent(name))
        }.sorted { ($0.epoch, $0.instance) < ($1.epoch, $1.instance) }
    }

    /// The commit log, empty when there is none yet.
    func readLog() throws -> Log { try readLogIfPresent() ?? Log() }

    /// The commit log, `nil` when there is none; one that cannot be read or parsed is an error.
    func readLogIfPresent() throws -> Log? {
        guard FileManager.default.fileExists(atPath: logURL.path) else { return nil }
        do {
            return try JSONDecoder().decode(Log.self, from: Data(contentsOf: logURL))
        } catch {
            throw damaged("its commit log '\(logURL.path)' cannot be read (\(error.localizedDescription)), so which lines of the output are committed is unknown")
        }
    }

    /// An error for files the sink cannot trust, saying what the user can do about it.
    func damaged(_ problem: String) -> FileSinkError {
        FileSinkError(
            path: output.path,
            reason: "\(problem); restore the output and its folder '\(staging.lastPathComponent)' from a backup, "
                + "or run the job under a new job id (a fresh start rewrites the output)")
    }

    func writeLog(_ log: Log) throws {
        var log = log
        if log.committed.count > 1000 { log.committed.removeFirst(log.committed.count - 1000) }
        try DurableFile.write(try JSONEncoder().encode(log), to: logURL)
    }

    func outputSize() throws -> UInt64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: output.path)
        return (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Appends the intent's files from its offset on, then records it done.
    func apply(_ intent: Log.Intent, to log: inout Log) throws {
        if !FileManager.default.fileExists(atPath: output.path) {
            guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
                throw FileSinkError(path: output.path, reason: "cannot create the file")
            }
        }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        var crc: UInt32 = 0
        do {
            try handle.truncate(atOffset: intent.offsetBefore)
            try handle.seek(toOffset: intent.offsetBefore)
            for name in intent.files {
                let input = try FileHandle(forReadingFrom: staging.appendingPathComponent(name))
                defer { try? input.close() }
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try writeChunk(chunk, handle)
                    crc = chunk.withUnsafeBytes { CRC32.checksum($0, initial: crc) }
                }
            }
            try handle.synchronize()
        } catch {
            // Whole lines or none (a full disk stops an append anywhere); the intent stays
            // recorded, so the next commit or recovery redoes it from its offset.
            try? handle.truncate(atOffset: intent.offsetBefore)
            try? handle.synchronize()
            throw error
        }
        let after = try handle.offset()
        log.intent = nil
        log.committed.append(.init(epoch: intent.epoch, offsetBefore: intent.offsetBefore, offsetAfter: after, crc32: crc))
        try writeLog(log)
        for name in intent.files { try? FileManager.default.removeItem(at: staging.appendingPathComponent(name)) }
    }

    /// Publishes every sealed epoch up to `epoch`.
    func commit(upTo epoch: Int64) throws {
        var log = try readLog()
        if let intent = log.intent { try apply(intent, to: &log) }
        // A crash between recording an epoch done and deleting its files leaves them behind:
        // they are published already, so they are removed, never appended again.
        let published = log.committed.map(\.epoch).max() ?? .min
        for leftover in try sealedFiles() where leftover.epoch <= published {
            try? FileManager.default.removeItem(at: leftover.url)
        }
        let ready = try sealedFiles().filter { $0.epoch <= epoch }
        // One log entry per epoch, so a recovery can take back exactly the epochs after it.
        for sealedEpoch in Set(ready.map(\.epoch)).sorted() {
            let files = ready.filter { $0.epoch == sealedEpoch }.map(\.url.lastPathComponent)
            let intent = Log.Intent(epoch: sealedEpoch, offsetBefore: try outputSize(), files: files)
            log.intent = intent
            try writeLog(log)
            try apply(intent, to: &log)
        }
    }

    /// Makes the output what checkpoint `epoch` committed (nothing, for `nil`) and drops every
    /// later file. Throws before changing anything when the output and its log do not agree.
    func recover(lastCompleted epoch: Int64?) throws {
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        guard let epoch else {
            // A fresh start: empty output, empty staging; an old log, readable or not, is moot.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? [] {
                try? FileManager.default.removeItem(at: staging.appendingPathComponent(name))
            }
            guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
                throw FileSinkError(path: output.path, reason: "cannot create the file")
            }
            DurableFile.syncFolder(output.deletingLastPathComponent())
            return
        }
        let size = try outputSize()
        var log: Log
        if let existing = try readLogIfPresent() {
            log = existing
        } else if size == 0 {
            // Nothing was ever committed (the first checkpoints came before any line).
            log = Log()
        } else {
            throw damaged(
                "its commit log '\(logURL.path)' is missing but the output holds \(size) bytes, so which of them checkpoint \(epoch) committed is unknown")
        }
        try verify(log, restoring: epoch, outputSize: size)
        let committedEnd = log.committed.last?.offsetAfter ?? 0
        if let intent = log.intent {
            if intent.epoch <= epoch {
                try apply(intent, to: &log)
            } else {
                // The interrupted commit is of an epoch the restored checkpoint does not hold:
                // what it appended must go with it.
                try cutOutput(to: intent.offsetBefore)
                log.intent = nil
                try writeLog(log)
            }
        } else if size > committedEnd {
            // Never committed: every append records its intent first, so these bytes are what an
            // interrupted append left after its intent was dropped, or were written by hand.
            try cutOutput(to: committedEnd)
        }
        // Take back what epochs after the restored checkpoint published. The log goes first: a
        // crash before the cut leaves bytes past the last commit, which the next recovery cuts.
        if let first = log.committed.first(where: { $0.epoch > epoch }) {
            log.committed.removeAll { $0.epoch > epoch }
            try writeLog(log)
            try cutOutput(to: first.offsetBefore)
        }
        for sealed in try sealedFiles() where sealed.epoch > epoch { try? FileManager.default.removeItem(at: sealed.url) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? [] where name.hasPrefix("open-") || name.hasPrefix(".") {
            try? FileManager.default.removeItem(at: staging.appendingPathComponent(name))
        }
        try commit(upTo: epoch)
    }

    /// Checks that `log` is coherent and that the output still holds what it says was committed:
    /// at least its length, and the same bytes in the last committed range and in the last one
    /// the restored checkpoint keeps.
    func verify(_ log: Log, restoring epoch: Int64, outputSize size: UInt64) throws {
        var previous: Log.Entry?
        for entry in log.committed {
            let ordered = previous.map { $0.epoch < entry.epoch && $0.offsetAfter <= entry.offsetBefore } ?? true
            guard ordered, entry.offsetBefore <= entry.offsetAfter else {
                throw damaged("its commit log '\(logURL.path)' is inconsistent at epoch \(entry.epoch)")
            }
            previous = entry
        }
        let committedEnd = log.committed.last?.offsetAfter ?? 0
        guard size >= committedEnd else {
            throw damaged("the output is \(size) bytes, shorter than the \(committedEnd) bytes its commit log says were committed (was it truncated or replaced?)")
        }
        if let intent = log.intent {
            guard intent.epoch > (log.committed.last?.epoch ?? .min), intent.offsetBefore >= committedEnd, intent.offsetBefore <= size else {
                throw damaged("its commit log '\(logURL.path)' records an intent for epoch \(intent.epoch) that does not fit the output")
            }
        }
        // The log keeps only its last entries: when every one of them is after the restored
        // checkpoint and the oldest does not start the file, where that checkpoint's output
        // ends is no longer known.
        if let first = log.committed.first, first.epoch > epoch, first.offsetBefore > 0 {
            throw damaged("checkpoint \(epoch) is older than every commit the log still records, so where its output ends is unknown")
        }
        var checked: [Log.Entry] = []
        if let last = log.committed.last { checked.append(last) }
        if let kept = log.committed.last(where: { $0.epoch <= epoch }), kept.epoch != log.committed.last?.epoch { checked.append(kept) }
        for entry in checked {
            guard let expected = entry.crc32 else { continue }
            guard try checksum(from: entry.offsetBefore, to: entry.offsetAfter) == expected else {
                throw damaged(
                    "the lines epoch \(entry.epoch) committed (bytes \(entry.offsetBefore)..<\(entry.offsetAfter)) changed since, their checksum does not match")
            }
        }
    }

    /// CRC-32 of the output's bytes `start..<end`, which must be there.
    func checksum(from start: UInt64, to end: UInt64) throws -> UInt32 {
        let handle = try FileHandle(forReadingFrom: output)
        defer { try? handle.close() }
        try handle.seek(toOffset: start)
        var crc: UInt32 = 0
        var remaining = end - start
        while remaining > 0 {
            guard let chunk = try handle.read(upToCount: Int(min(remaining, 1 << 20))), !chunk.isEmpty else {
                throw damaged("the output ends inside the lines its commit log says were committed")
            }
            crc = chunk.withUnsafeBytes { CRC32.checksum($0, initial: crc) }
            remaining -= UInt64(chunk.count)
        }
        return crc
    }

    /// Shortens the output to `offset` bytes, durably (nothing to do if it is not longer).
    func cutOutput(to offset: UInt64) throws {
        guard try outputSize() > offset else { return }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        try handle.truncate(atOffset: offset)
        try handle.synchronize()
    }
}
