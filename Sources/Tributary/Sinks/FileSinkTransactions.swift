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
struct FileSinkTransactions {
    struct Log: Codable {
        struct Entry: Codable {
            var epoch: Int64
            var offsetBefore: UInt64
            var offsetAfter: UInt64
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

    func readLog() throws -> Log {
        guard let data = try? Data(contentsOf: logURL) else { return Log() }
        return try JSONDecoder().decode(Log.self, from: data)
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
        do {
            try handle.truncate(atOffset: intent.offsetBefore)
            try handle.seek(toOffset: intent.offsetBefore)
            for name in intent.files {
                let input = try FileHandle(forReadingFrom: staging.appendingPathComponent(name))
                defer { try? input.close() }
                while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                    try writeChunk(chunk, handle)
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
        log.committed.append(.init(epoch: intent.epoch, offsetBefore: intent.offsetBefore, offsetAfter: after))
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
    /// later file.
    func recover(lastCompleted epoch: Int64?) throws {
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        var log = try readLog()
        guard let epoch else {
            // A fresh start: empty output, empty staging.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? [] {
                try? FileManager.default.removeItem(at: staging.appendingPathComponent(name))
            }
            guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
                throw FileSinkError(path: output.path, reason: "cannot create the file")
            }
            DurableFile.syncFolder(output.deletingLastPathComponent())
            return
        }
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
        }
        // Take back what epochs after the restored checkpoint published.
        if let first = log.committed.first(where: { $0.epoch > epoch }), FileManager.default.fileExists(atPath: output.path) {
            let handle = try FileHandle(forWritingTo: output)
            try handle.truncate(atOffset: first.offsetBefore)
            try handle.synchronize()
            try handle.close()
            log.committed.removeAll { $0.epoch > epoch }
            try writeLog(log)
        }
        for sealed in try sealedFiles() where sealed.epoch > epoch { try? FileManager.default.removeItem(at: sealed.url) }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? [] where name.hasPrefix("open-") || name.hasPrefix(".") {
            try? FileManager.default.removeItem(at: staging.appendingPathComponent(name))
        }
        try commit(upTo: epoch)
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
