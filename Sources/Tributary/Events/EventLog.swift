import Foundation
import Synchronization

/// Writes a job's events to its folder (`events.jsonl`, one JSON object per line, and
/// `events.log`, the same for people) and hands them to subscribers.
///
/// Each event is written with one `write` per file as it happens, so a reader following the
/// files (`tributary events --follow`) sees it at once and a killed process loses none that
/// were emitted.
final class EventLog: Sendable {
    let jobID: String
    let folder: URL
    private let files: Mutex<(json: FileHandle, text: FileHandle)?>
    private let hub: EventHub
    /// Where `WARNING` events are also written, one line each (`print_warnings`).
    private let warningOutput: (@Sendable (String) -> Void)?

    /// Creates the job folder and opens (appends to) its event files.
    /// - Throws: ``JobFolderError`` when the folder or files cannot be created.
    init(jobID: String, workDirectory: String, hub: EventHub, warningOutput: (@Sendable (String) -> Void)? = nil) throws {
        self.jobID = jobID
        self.hub = hub
        self.warningOutput = warningOutput
        folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let json = try Self.openForAppending(folder.appendingPathComponent("events.jsonl"))
            let text = try Self.openForAppending(folder.appendingPathComponent("events.log"))
            files = Mutex((json, text))
        } catch {
            throw JobFolderError(path: folder.path, reason: error.localizedDescription)
        }
    }

    private static func openForAppending(_ url: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path])
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    }

    func emit(_ event: JobEvent) {
        let json = (try? JobEvent.encoder().encode(event)).map { $0 + Data("\n".utf8) }
        let text = Data((event.description + "\n").utf8)
        files.withLock { files in
            if let files {
                if let json { try? files.json.write(contentsOf: json) }
                try? files.text.write(contentsOf: text)
            }
            // Under the lock, so handlers see events in the files' order.
            hub.deliver(event)
        }
        hub.publish(event)
        if event.kind == .warning, let warningOutput {
            warningOutput("tributary: warning: job '\(jobID)'\(event.operatorName.map { ", '\($0)'" } ?? ""): \(event.message)")
        }
    }

    /// Writes a line to standard error (the default of `print_warnings`).
    static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Writes `job_summary.json` atomically (temporary file, then rename).
    func writeSummary(_ summary: JobSummary) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(summary) else { return }
        try? data.write(to: folder.appendingPathComponent("job_summary.json"), options: .atomic)
    }

    /// Closes the files, after every ``LocalEnvironment/onEvent(_:)`` handler has had the
    /// events emitted so far, and ends the ``LocalEnvironment/events()`` streams.
    func close() async {
        await hub.drain()
        // The run's streams end after its last event (events() documents it).
        hub.finishSubscribers()
        files.withLock { files in
            try? files?.json.close()
            try? files?.text.close()
            files = nil
        }
    }
}

/// Delivers events to every subscriber of an environment, and to its handlers.
final class EventHub: Sendable {
    private let streams = Broadcast<JobEvent>()
    private let handlers = Mutex<[@Sendable (JobEvent) -> Void]>([])
    /// Handlers run here, one event at a time in emission order, so a slow handler delays
    /// other handlers but never the job.
    private let delivery = DispatchQueue(label: "tributary.event-handlers")

    func addHandler(_ handler: @escaping @Sendable (JobEvent) -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    /// Queues `event` for the handlers.
    func deliver(_ event: JobEvent) {
        let handlers = self.handlers.withLock { $0 }
        guard !handlers.isEmpty else { return }
        delivery.async {
            for handler in handlers { handler(event) }
        }
    }

    /// Waits until the handlers have had every event queued so far, without holding a thread
    /// of the task pool while they run (a handler may wait on async work).
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            delivery.async { continuation.resume() }
        }
    }

    func subscribe() -> AsyncStream<JobEvent> { streams.subscribe() }

    /// Ends every subscriber's stream: the run they watched is over.
    func finishSubscribers() { streams.finishSubscribers() }

    func publish(_ event: JobEvent) { streams.publish(event) }
}

/// The job folder (`work_dir/<job_id>`) could not be created, written or read.
public struct JobFolderError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot use the job folder '\(path)': \(reason) (set 'work_dir' to a writable directory)" }
}
