import Foundation
import Testing
@testable import Tributary

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
        var writer = try sink.makeWriter(SinkContext(jobID: "j", operatorName: "s", instance: 0, parallelism: 1, deliversCommits: true))
        try writer.write(["a", "b"])
        try writer.preCommit(epoch: 1)
        try writer.write(["c"])
        #expect(sink.values == [])
        try writer.commit(epoch: 1)
        try writer.commit(epoch: 1)
        #expect(sink.values == ["a", "b"], "committing an epoch twice must not duplicate it")
        try writer.preCommit(epoch: 2)
        try writer.write(["d"])
        try writer.abort(afterCommitted: 1)
        try writer.commit(epoch: 2)
        #expect(sink.values == ["a", "b"], "epoch 2 was discarded by the abort")
        try writer.write(["e"])
        try writer.preCommit(epoch: 3)
        try writer.commit(epoch: 3)
        #expect(sink.values == ["a", "b", "e"])
    }

    @Test func terminalSinkPrintsEachRecordOnALine() async throws {
        let printed = Recorder<String>()
        let env = try LocalEnvironment("terminal")
        env.fromCollection(["x", "y", "z"]).sink(TerminalSink(prefix: "> ") { printed.append($0) })
        _ = try await env.submit()
        #expect(printed.values.joined() == "> x\n> y\n> z\n")
    }
}
