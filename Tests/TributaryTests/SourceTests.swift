import Foundation
import Testing
@testable import Tributary

@Suite struct SourceTests {
    private func readAll<R: SourceReader>(_ reader: inout R, batch: Int = 3) async throws -> [R.Element] {
        var all: [R.Element] = []
        var more = true
        while more {
            more = try await reader.read(into: &all, limit: ReadLimit(maxCount: batch, deadline: .now + .milliseconds(5)))
        }
        return all
    }

    @Test func fileSourceReadsLinesWithoutTerminators() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("in.txt", "first\r\nsecond\n\nfourth has no newline")
        let env = try LocalEnvironment("file")
        let sink = CollectSink<String>()
        env.fromSource(FileSource(path: path)).sink(sink)
        _ = try await env.submit()
        #expect(sink.values == ["first", "second", "", "fourth has no newline"])
    }

    @Test func fileSourcePositionIsTheByteOffsetOfTheNextLine() async throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("in.txt", "ä\nbb\nccc\n")
        let source = FileSource(path: path)
        var reader = try source.makeReader(startingAt: nil)
        var lines: [String] = []
        _ = try await reader.read(into: &lines, limit: ReadLimit(maxCount: 1, deadline: .now))
        #expect(lines == ["ä"])
        #expect(reader.position == 3, "'ä' is two bytes, plus the newline")
        var resumed = try source.makeReader(startingAt: reader.position)
        #expect(try await readAll(&resumed) == ["bb", "ccc"])
        #expect(resumed.position == 10)
    }

    @Test func fileSourceReadsFilesLargerThanOneChunk() async throws {
        let directory = try TemporaryDirectory()
        let lines = (0..<20_000).map { "line \($0) " + String(repeating: "x", count: $0 % 17) }
        let path = try directory.write("big.txt", lines.joined(separator: "\n") + "\n")
        var reader = try FileSource(path: path).makeReader(startingAt: nil)
        #expect(try await readAll(&reader, batch: 1000) == lines)
    }

    @Test func aMissingFileFailsTheJobNamingTheSourceAndPath() async throws {
        let env = try LocalEnvironment("missing")
        env.fromSource(FileSource(path: "/nonexistent/input.txt")).named("input").sink(CollectSink<String>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "input")
        #expect((error?.cause.error as? FileSourceError)?.path == "/nonexistent/input.txt")
    }

    @Test func invalidUTF8IsAnErrorWithItsByteOffset() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("bad.txt")
        try Data([0x6F, 0x6B, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        var reader = try FileSource(path: path).makeReader(startingAt: nil)
        await #expect(throws: FileSourceError.self) { try await readAll(&reader) }
        #expect(reader.position == 3)
    }

    @Test func fileSourceRejectsAPositionPastTheEnd() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("short.txt", "ab\n")
        #expect(throws: FileSourceError.self) { try FileSource(path: path).makeReader(startingAt: 99) }
    }

    @Test func collectionSourceReadsInOrderAndResumesFromAnIndex() async throws {
        let source = CollectionSource(Array(10..<20))
        var reader = try source.makeReader(startingAt: nil)
        #expect(try await readAll(&reader) == Array(10..<20))
        #expect(reader.position == 10)
        var resumed = try source.makeReader(startingAt: 7)
        #expect(try await readAll(&resumed) == [17, 18, 19])
        #expect(throws: SourcePositionError.self) { try source.makeReader(startingAt: 11) }
    }

    @Test func generatorSourceMakesCountRecordsAndResumes() async throws {
        let source = GeneratorSource(count: 10) { $0 * $0 }
        var reader = try source.makeReader(startingAt: nil)
        #expect(try await readAll(&reader) == (0..<10).map { $0 * $0 })
        var resumed = try source.makeReader(startingAt: 8)
        #expect(try await readAll(&resumed) == [64, 81])
        #expect(source.isReplayable)
        var empty = try GeneratorSource(count: 0) { $0 }.makeReader(startingAt: nil)
        #expect(try await readAll(&empty) == [])
    }

    @Test func rateLimitedGeneratorStillProducesEveryRecordInOrder() async throws {
        let env = try LocalEnvironment("rate")
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 50, ratePerSecond: 5000) { $0 }).sink(sink)
        _ = try await env.submit()
        #expect(sink.values == Array(0..<50))
    }

    @Test func asyncSequenceSourceDeliversEachElementWithoutWaitingForTheNext() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let env = try LocalEnvironment("async")
        let sink = CollectSink<String>()
        let seen = AsyncStream.makeStream(of: String.self)
        env.fromSource(AsyncSequenceSource(stream))
            .map { value -> String in
                seen.continuation.yield(value)
                return value.uppercased()
            }
            .sink(sink)
        #expect(!AsyncSequenceSource(stream).isReplayable)
        let job = Task { try await env.submit() }
        var arrivals = seen.stream.makeAsyncIterator()
        for word in ["alpha", "beta", "gamma"] {
            continuation.yield(word)
            // Each element reaches the pipeline while the sequence is still open.
            #expect(await arrivals.next() == word)
        }
        continuation.finish()
        let result = try await job.value
        #expect(sink.values == ["ALPHA", "BETA", "GAMMA"])
        #expect(result[operator: "source-0"]?.recordsOut == 3)
    }

    @Test func anAsyncSequenceThatThrowsFailsTheSource() async throws {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Int.self)
        continuation.yield(1)
        continuation.finish(throwing: InjectedError("feed broke"))
        let env = try LocalEnvironment("async-error")
        env.fromSource(AsyncSequenceSource(stream)).named("feed").sink(CollectSink<Int>())
        let error = await #expect(throws: JobFailedError.self) { try await env.submit() }
        #expect(error?.cause.operatorName == "feed")
        #expect(error?.cause.error as? InjectedError == InjectedError("feed broke"))
    }
}
