import Foundation
import Tributary

/// The sinks of one execution of a torture pipeline (a reference run, or a run with faults and
/// all its resumes): made once, so every resume in this process writes to the same
/// `CollectSink`s and files and a flaky commit fails its set number of times in all.
public final class TortureOutputs: Sendable {
    /// By sink name.
    public let sinks: [String: any Sink<TortureRecord>]
    /// The ``TorturePipeline/SinkKind/asyncFile`` sinks, by name.
    public let asyncSinks: [String: any AsyncSink<TortureRecord>]
    private let collected: [String: CollectSink<TortureRecord>]
    private let files: [String: String]

    /// - Parameters:
    ///   - directory: where file sinks write (`<sink name>.txt`).
    ///   - flakyCommits: wrap the sinks the plan says so in a ``FlakyCommitSink``.
    public init(_ pipeline: TorturePipeline, directory: URL, flakyCommits: Bool) {
        var sinks: [String: any Sink<TortureRecord>] = [:]
        var asyncSinks: [String: any AsyncSink<TortureRecord>] = [:]
        var collected: [String: CollectSink<TortureRecord>] = [:]
        var files: [String: String] = [:]
        for spec in pipeline.sinks {
            let failures = flakyCommits ? spec.failingCommits : 0
            switch spec.kind {
            case .collect:
                let sink = CollectSink<TortureRecord>()
                collected[spec.name] = sink
                sinks[spec.name] = failures > 0 ? FlakyCommitSink(sink, failures: failures) : sink
            case .file:
                let path = directory.appendingPathComponent("\(spec.name).txt").path
                files[spec.name] = path
                let sink = FileSink<TortureRecord>(path: path)
                sinks[spec.name] = failures > 0 ? FlakyCommitSink(sink, failures: failures) : sink
            case .asyncFile:
                let path = directory.appendingPathComponent("\(spec.name).txt").path
                files[spec.name] = path
                asyncSinks[spec.name] = SuspendingFileSink(path: path, failingCommits: failures)
            }
        }
        self.sinks = sinks
        self.asyncSinks = asyncSinks
        self.collected = collected
        self.files = files
    }

    /// What each sink committed, by sink name.
    public func committed() throws -> [String: [TortureRecord]] {
        var output: [String: [TortureRecord]] = [:]
        for (name, sink) in collected { output[name] = sink.values }
        for (name, path) in files {
            guard FileManager.default.fileExists(atPath: path) else {
                output[name] = []
                continue
            }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            output[name] = try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") || text.isEmpty ? 1 : 0)
                .map { line in
                    guard let record = TortureRecord(line: line) else { throw TortureError("\(name): unreadable line '\(line)' in \(path)") }
                    return record
                }
        }
        return output
    }
}

/// A torture run's own failure (not the engine's): a file it cannot read, a child that will not start.
public struct TortureError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
