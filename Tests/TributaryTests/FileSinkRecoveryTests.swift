import Foundation
import Testing
@testable import Tributary

/// `FileSink` under checkpoints stays exactly-once through writer restarts, failed appends and
/// damaged or hand-edited files: it repairs what a crash can leave and refuses what it cannot.
@Suite struct FileSinkRecoveryTests {
    let directory: TemporaryDirectory
    let context = SinkContext(jobID: "j", operatorName: "out", instance: 0, parallelism: 1, deliversCommits: true)

    init() throws {
        directory = try TemporaryDirectory()
    }

    var path: String { directory.path("out.txt") }

    func output() throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// A sink whose output holds `epochs`, epoch i + 1 committed by checkpoint i + 1, and the
    /// writer that staged them (its next epoch is `epochs.count + 1`).
    func sinkWithCommitted(_ epochs: [[String]]) throws -> (FileSink<String>, FileSink<String>.Writer) {
        let sink = FileSink<String>(path: path)
        try sink.recover(lastCompleted: nil, context: context)
        var writer = try sink.makeWriter(context)
        for (index, lines) in epochs.enumerated() {
            try writer.write(lines)
            try writer.preCommit(epoch: Int64(index + 1))
            try sink.commit(upTo: Int64(index + 1), context: context)
        }
        return (sink, writer)
    }

    /// Appends to the output behind the sink's back, as an interrupted append or a user would.
    func appendByHand(_ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Recovers a new sink on the same path (a resumed process) to `epoch`, expecting an error.
    func recoveryError(to epoch: Int64) -> FileSinkError? {
        return #expect(throws: FileSinkError.self) { try FileSink<String>(path: path).recover(lastCompleted: epoch, context: context) }
    }

    // MARK: A restarted writer keeps what was staged

    @Test func aSinkRestartedMidEpochKeepsEveryLineItStaged() async throws {
        // One checkpoint, at the end of the input, so the failure lands in the middle of its epoch.
        let env = try LocalEnvironment("restarted-sink", config: [
            "work_dir": .string(directory.path("work")), "batch_size": 64,
            "fault_tolerance": [
                "strategy": "checkpoint", "checkpoint_interval": 3600, "checkpoint_dir": .string(directory.path("chk")),
                "delay": 0, "max_attempts": 3,
            ],
            "fault_injection": ["operator": "out", "inject": "throw", "at_records": [700], "times": 1],
        ])
        env.fromSource(GeneratorSource(count: 2_000) { $0 }).map { "line \($0)" }.named("format").sink(FileSink(path: path)).named("out")
        let result = try await env.submit()
        try #require(result.restarts.map(\.operatorName) == ["out"], "the sink failed once and was restarted")
        let lines = try output().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 2_001)
        #expect(lines == (0..<2_000).map { "line \($0)" } + [""])
    }

    @Test func aRestartedWriterAppendsAfterWhatItsPredecessorStaged() throws {
        let (sink, writer) = try sinkWithCommitted([])
        var failed = writer
        try failed.write(["a", "b"])
        // What the runtime does on a restart: close the failed writer and make a new one.
        try failed.close()
        var restarted = try sink.makeWriter(context)
        try restarted.write(["c"])
        try restarted.preCommit(epoch: 1)
        try sink.commit(upTo: 1, context: context)
        #expect(try output() == "a\nb\nc\n")
    }

    @Test func aRestartedWriterSealsWhatItsPredecessorStagedEvenBeforeItWrites() throws {
        let (sink, writer) = try sinkWithCommitted([])
        var failed = writer
        try failed.write(["a", "b"])
        try failed.close()
        var restarted = try sink.makeWriter(context)
        try restarted.preCommit(epoch: 1)
        try sink.commit(upTo: 1, context: context)
        #expect(try output() == "a\nb\n")
        try restarted.write(["c"])
        try restarted.preCommit(epoch: 2)
        try sink.commit(upTo: 2, context: context)
        #expect(try output() == "a\nb\nc\n")
    }

    // MARK: A failed append leaves whole lines

    @Test func aFailedAppendCutsTheOutputBackAndKeepsTheIntentForARecoveryToRedo() throws {
        var (_, writer) = try sinkWithCommitted([["one"]])
        try writer.write(["two", "three"])
        try writer.preCommit(epoch: 2)
        var transactions = FileSinkTransactions(path: path)
        transactions.writeChunk = { chunk, handle in
            // Half a line gets out before the disk is full.
            try handle.write(contentsOf: chunk.prefix(5))
            throw POSIXError(.ENOSPC)
        }
        #expect(throws: POSIXError.self) { try transactions.commit(upTo: 2) }
        #expect(try output() == "one\n", "no partial line")
        #expect(try transactions.readLog().intent?.epoch == 2, "the intent stays for a recovery to redo")
        try FileSink<String>(path: path).recover(lastCompleted: 2, context: context)
        #expect(try output() == "one\ntwo\nthree\n")
    }

    // MARK: Recovery to a checkpoint older than an interrupted commit

    @Test func recoveryToACheckpointBeforeAnInterruptedCommitCutsItsBytesBack() throws {
        var (_, writer) = try sinkWithCommitted([["one"]])
        try writer.write(["two"])
        try writer.preCommit(epoch: 2)
        // A crash in the middle of committing epoch 2: its intent is recorded, half a line is out.
        let transactions = FileSinkTransactions(path: path)
        var log = try transactions.readLog()
        log.intent = .init(epoch: 2, offsetBefore: 4, files: try transactions.sealedFiles().map(\.url.lastPathComponent))
        try transactions.writeLog(log)
        try appendByHand("tw")
        // Checkpoint 2 never completed (or was damaged): the job restores checkpoint 1.
        let resumed = FileSink<String>(path: path)
        try resumed.recover(lastCompleted: 1, context: context)
        #expect(try output() == "one\n")
        #expect(try transactions.readLog().intent == nil)
        var next = try resumed.makeWriter(context)
        try next.write(["again"])
        try next.preCommit(epoch: 2)
        try resumed.commit(upTo: 2, context: context)
        #expect(try output() == "one\nagain\n")
    }

    // MARK: The output is checked against its commit log

    @Test func resumingWithoutACommitLogWhileTheOutputHasLinesIsAnError() throws {
        _ = try sinkWithCommitted([["a"], ["b"]])
        try FileManager.default.removeItem(at: FileSinkTransactions(path: path).logURL)
        let error = recoveryError(to: 2)
        #expect(error?.reason.contains("commits.json") == true)
        #expect(error?.reason.contains("new job id") == true, "says what the user can do")
        #expect(try output() == "a\nb\n", "the output is left alone")
    }

    @Test func resumingWithoutACommitLogIsFineWhileTheOutputIsEmpty() throws {
        // Checkpoint 1 completed before the sink received anything: nothing was ever committed.
        let (sink, _) = try sinkWithCommitted([])
        try sink.commit(upTo: 1, context: context)
        try FileSink<String>(path: path).recover(lastCompleted: 1, context: context)
        #expect(try output() == "")
    }

    @Test func aCommitLogThatDoesNotParseIsAnError() throws {
        _ = try sinkWithCommitted([["a"]])
        try Data("{\"committed\": [{\"epoch\": 1,".utf8).write(to: FileSinkTransactions(path: path).logURL)
        let error = recoveryError(to: 1)
        #expect(error?.reason.contains("commits.json") == true)
        #expect(error?.reason.contains("new job id") == true, "says what the user can do")
        #expect(try output() == "a\n")
    }

    @Test func anOutputShorterThanItsLastCommitIsAnErrorNotAnAppend() throws {
        var (_, writer) = try sinkWithCommitted([["one", "two"]])
        try writer.write(["three"])
        try writer.preCommit(epoch: 2)
        // Someone cut the file by hand; epoch 2 was sealed but its commit had not run.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 4)
        try handle.close()
        let error = recoveryError(to: 2)
        #expect(error?.reason.contains("shorter") == true)
        #expect(try output() == "one\n", "nothing was appended")
    }

    @Test func anOutputWhoseLastCommittedLinesChangedIsAnError() throws {
        _ = try sinkWithCommitted([["one"], ["two"]])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 4)
        try handle.write(contentsOf: Data("TWO".utf8))
        try handle.close()
        let error = recoveryError(to: 2)
        #expect(error?.reason.contains("changed") == true)
        #expect(try output() == "one\nTWO\n")
    }

    @Test func bytesAfterTheLastCommitWithoutAnIntentAreCutBack() throws {
        var (sink, writer) = try sinkWithCommitted([["one"]])
        try appendByHand("tw")
        try FileSink<String>(path: path).recover(lastCompleted: 1, context: context)
        #expect(try output() == "one\n")
        try writer.write(["two"])
        try writer.preCommit(epoch: 2)
        try sink.commit(upTo: 2, context: context)
        #expect(try output() == "one\ntwo\n")
    }

    @Test func aCommitLogWrittenBeforeChecksumsStillRecovers() throws {
        _ = try sinkWithCommitted([["one"], ["two"]])
        let old = #"{"committed":[{"epoch":1,"offsetBefore":0,"offsetAfter":4},{"epoch":2,"offsetBefore":4,"offsetAfter":8}]}"#
        try Data(old.utf8).write(to: FileSinkTransactions(path: path).logURL)
        try FileSink<String>(path: path).recover(lastCompleted: 1, context: context)
        #expect(try output() == "one\n")
    }
}
