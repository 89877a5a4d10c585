import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct SinkTests {
    @Test func fileSinkWritesOneLinePerRecord() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out/result.txt")
        let env = try LocalEnvironment("file-sink")
        env.fromCollection(Array(1...1000)).map { "value \($0)" }.sink(FileSink(path: output))
        _ = try await env.submit()
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text == (1...1000).map { "value \($0)\n" }.joined())
    }

    @Test func fileSinkUsesTheGivenFormatAndTruncatesAnOldFile() async throws {
        let directory = try TemporaryDirectory()
        let output = try directory.write("out.csv", "stale content\n")
        let env = try LocalEnvironment("csv")
        env.fromCollection([(1, "a"), (2, "b")]).sink(FileSink(path: output) { "\($0.0),\($0.1)" })
        _ = try await env.submit()
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "1,a\n2,b\n")
    }

    /// A format that throws is a sink failure: the restart retries the batch, and the file holds
    /// every line once, with or without checkpoints.
    @Test(arguments: [false, true])
    func aFileSinkFormatThatThrowsIsRetriedAndWritesEachLineOnce(checkpoints: Bool) async throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.txt")
        var faultTolerance: [String: ConfigValue] = ["delay": 0, "max_attempts": 5]
        if checkpoints {
            faultTolerance = ["strategy": "checkpoint", "checkpoint_interval": 0.001, "checkpoint_dir": .string(directory.path("chk")), "delay": 0, "max_attempts": 5]
        }
        let env = try LocalEnvironment("throwing-format", config: [
            "work_dir": .string(directory.path("work")), "batch_size": 16, "fault_tolerance": .object(faultTolerance),
        ])
        let failures = FailureInjector<Int>(failOn: [7, 500, 999], times: 1)
        env.fromCollection(Array(0..<1_000)).sink(FileSink(path: output) { value in
            try failures.check(value)
            return "line \(value)"
        }).named("out")
        let result = try await env.submit()
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (0..<1_000).map { "line \($0)" })
        #expect(result.restarts.map(\.operatorName) == ["out", "out", "out"])
    }

    @Test func parallelFileSinkInstancesNeverInterleaveInsideALine() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("parallel.txt")
        let env = try LocalEnvironment("parallel-file", config: ["batch_size": 13])
        let lines = (0..<5000).map { "record-\($0)-" + String(repeating: "z", count: $0 % 50) }
        env.fromCollection(lines).sink(FileSink(path: output)).parallelism(3)
        _ = try await env.submit()
        let written = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(written.last == "")
        #expect(written.dropLast().map(String.init).sorted() == lines.sorted())
    }

    @Test func fileSinkReportsAnUnwritablePath() async throws {
        let directory = try TemporaryDirectory()
        let blocker = try directory.write("file", "")
        let env = try LocalEnvironment("unwritable")
        env.fromCollection([1]).sink(FileSink(path: blocker + "/below/out.txt")).named("out")
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "out")
        #expect(error?.cause.error is FileSinkError)
    }

    @Test func collectSinkWithoutCommitsHoldsEveryWrite() throws {
        let sink = CollectSink<Int>()
        var writer = try sink.makeWriter(SinkContext(jobID: "j", operatorName: "s", instance: 0, parallelism: 1, deliversCommits: false))
        try writer.write([1, 2])
        try writer.write([3])
        #expect(sink.values == [1, 2, 3])
    }

    @Test func collectSinkWithCommitsExposesOnlyCommittedEpochs() throws {
        let sink = CollectSink<String>()
        let context = SinkContext(jobID: "j", operatorName: "s", instance: 0, parallelism: 1, deliversCommits: true)
        var writer = try sink.makeWriter(context)
        try writer.write(["a", "b"])
        try writer.preCommit(epoch: 1)
        try writer.write(["c"])
        #expect(sink.values == [])
        try sink.commit(upTo: 1, context: context)
        try sink.commit(upTo: 1, context: context)
        #expect(sink.values == ["a", "b"], "committing an epoch twice must not duplicate it")
        try writer.preCommit(epoch: 2)
        try writer.write(["d"])
        try sink.recover(lastCompleted: 1, context: context)
        try sink.commit(upTo: 2, context: context)
        #expect(sink.values == ["a", "b"], "epoch 2 was discarded by the recovery to checkpoint 1")
        try writer.write(["e"])
        try writer.preCommit(epoch: 3)
        try sink.commit(upTo: 3, context: context)
        #expect(sink.values == ["a", "b", "e"])
    }

    func transactionalWriter(_ sink: FileSink<String>, instance: Int = 0) throws -> (FileSink<String>.Writer, SinkContext) {
        let context = SinkContext(jobID: "j", operatorName: "out", instance: instance, parallelism: 2, deliversCommits: true)
        return (try sink.makeWriter(context), context)
    }

    @Test func fileSinkPublishesOnlyCommittedEpochsInOrder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.txt")
        let sink = FileSink<String>(path: path)
        var (first, context) = try transactionalWriter(sink, instance: 0)
        var (second, _) = try transactionalWriter(sink, instance: 1)
        try sink.recover(lastCompleted: nil, context: context)
        try first.write(["a1", "a2"])
        try second.write(["b1"])
        try first.preCommit(epoch: 1)
        try second.preCommit(epoch: 1)
        try first.write(["a3"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "")
        try sink.commit(upTo: 1, context: context)
        try sink.commit(upTo: 1, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a1\na2\nb1\n")
        try first.preCommit(epoch: 2)
        try sink.commit(upTo: 2, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a1\na2\nb1\na3\n")
    }

    @Test func fileSinkRepairsACommitInterruptedByACrash() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.txt")
        let sink = FileSink<String>(path: path)
        var (writer, context) = try transactionalWriter(sink)
        try sink.recover(lastCompleted: nil, context: context)
        try writer.write(["one"])
        try writer.preCommit(epoch: 1)
        try sink.commit(upTo: 1, context: context)
        try writer.write(["two", "three"])
        try writer.preCommit(epoch: 2)
        // Simulate a crash in the middle of committing epoch 2: its intent is recorded and half
        // a line was appended.
        let transactions = FileSinkTransactions(path: path)
        var log = try transactions.readLog()
        log.intent = .init(epoch: 2, offsetBefore: 4, files: try transactions.sealedFiles().map(\.url.lastPathComponent))
        try transactions.writeLog(log)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("tw".utf8))
        try handle.close()
        // A new process recovers to checkpoint 2.
        let resumed = FileSink<String>(path: path)
        try resumed.recover(lastCompleted: 2, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\nthree\n")
    }

    @Test func fileSinkNeverPublishesLeftoverFilesOfACommittedEpochAgain() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.txt")
        let sink = FileSink<String>(path: path)
        var (writer, context) = try transactionalWriter(sink)
        try sink.recover(lastCompleted: nil, context: context)
        try writer.write(["once"])
        try writer.preCommit(epoch: 1)
        // Keep a copy of the sealed file, commit, and put the copy back: as if the process died
        // after recording epoch 1 done but before deleting its file.
        let transactions = FileSinkTransactions(path: path)
        let sealed = try #require(try transactions.sealedFiles().first)
        let saved = try Data(contentsOf: sealed.url)
        try sink.commit(upTo: 1, context: context)
        try saved.write(to: sealed.url)
        try FileSink<String>(path: path).recover(lastCompleted: 1, context: context)
        try sink.commit(upTo: 2, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "once\n")
    }

    @Test func fileSinkRecoveryToAnEarlierCheckpointTakesBackLaterEpochsAndDropsStagedLines() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.txt")
        let sink = FileSink<String>(path: path)
        var (writer, context) = try transactionalWriter(sink)
        try sink.recover(lastCompleted: nil, context: context)
        for epoch in Int64(1)...3 {
            try writer.write(["e\(epoch)"])
            try writer.preCommit(epoch: epoch)
        }
        try sink.commit(upTo: 2, context: context)
        try writer.write(["never"])
        try sink.recover(lastCompleted: 1, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "e1\n")
        try sink.commit(upTo: 3, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "e1\n", "epochs after the restored checkpoint are gone")
        try sink.recover(lastCompleted: nil, context: context)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "")
    }

    @Test func terminalSinkPrintsEachRecordOnALine() async throws {
        let printed = Recorder<String>()
        let env = try LocalEnvironment("terminal")
        env.fromCollection(["x", "y", "z"]).sink(TerminalSink(prefix: "> ") { printed.append($0) })
        _ = try await env.submit()
        #expect(printed.values.joined() == "> x\n> y\n> z\n")
    }
}
