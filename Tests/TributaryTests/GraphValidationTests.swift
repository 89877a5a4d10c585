import Testing
@testable import Tributary

@Suite struct GraphValidationTests {
    private func submitError(_ env: LocalEnvironment) async -> PipelineError? {
        await #expect(throws: PipelineError.self) { try await env.submit() }
    }

    @Test func aPipelineWithoutSinkIsRejected() async throws {
        let env = try LocalEnvironment("no-sink")
        _ = env.fromCollection([1, 2]).map { $0 }
        let error = await submitError(env)
        #expect(error?.code == .noSink)
        #expect(error?.message.contains(".sink(") == true)
    }

    @Test func anEmptyPipelineIsRejected() async throws {
        let error = await submitError(try LocalEnvironment("empty"))
        #expect(error?.code == .noSink)
    }

    @Test func anUnconsumedStreamIsRejectedByName() async throws {
        let env = try LocalEnvironment("dangling")
        let source = env.fromCollection([1])
        source.sink(CollectSink<Int>())
        _ = source.map { $0 * 2 }.named("forgotten")
        let error = await submitError(env)
        #expect(error?.code == .unconsumedStream)
        #expect(error?.message.contains("'forgotten'") == true)
    }

    @Test func duplicateNamesAreRejected() async throws {
        let env = try LocalEnvironment("dupes")
        env.fromCollection([1]).map { $0 }.named("step").map { $0 }.named("step").sink(CollectSink<Int>())
        let error = await submitError(env)
        #expect(error?.code == .invalidName)
        #expect(error?.message.contains("'step'") == true)
    }

    @Test(arguments: ["", "a/b", "line\nbreak"])
    func unusableNamesAreRejected(name: String) async throws {
        let env = try LocalEnvironment("bad-name")
        env.fromCollection([1]).map { $0 }.named(name).sink(CollectSink<Int>())
        #expect(await submitError(env)?.code == .invalidName)
    }

    @Test(arguments: [0, -1, 5000])
    func outOfRangeParallelismIsRejected(count: Int) async throws {
        let env = try LocalEnvironment("parallelism")
        env.fromCollection([1]).map { $0 }.parallelism(count).sink(CollectSink<Int>())
        let error = await submitError(env)
        #expect(error?.code == .invalidParallelism)
        #expect(error?.message.contains("1...1024") == true)
    }

    @Test func sourcesRunAsOneInstance() async throws {
        let env = try LocalEnvironment("source-parallelism")
        env.fromCollection([1]).parallelism(2).sink(CollectSink<Int>())
        let error = await submitError(env)
        #expect(error?.code == .invalidParallelism)
        #expect(error?.message.contains("source 'source-0'") == true)
    }

    @Test func streamsOfAnotherEnvironmentCannotBeUnioned() async throws {
        let env = try LocalEnvironment("one")
        let other = try LocalEnvironment("two")
        env.fromCollection([1]).union(other.fromCollection([2])).sink(CollectSink<Int>())
        #expect(await submitError(env)?.code == .foreignStream)
    }

    @Test func mapAsyncNeedsAtLeastOneCallInFlight() async throws {
        let env = try LocalEnvironment("mapAsync")
        env.fromCollection([1]).mapAsync(maxConcurrency: 0) { $0 }.sink(CollectSink<Int>())
        #expect(await submitError(env)?.code == .invalidArgument)
    }

    @Test func aCycleIsRejected() throws {
        // The public builder cannot express a cycle; the compiler still refuses one.
        var graph = GraphState()
        graph.nodes.append(.init(blueprint: UnionNode<Int>(inputs: [1])))
        graph.nodes.append(.init(blueprint: SinkNode(sink: CollectSink<Int>(), input: 0)))
        #expect(throws: PipelineError(code: .cycle, message: "operator 'union-0' consumes a stream that is not upstream of it: the graph has a cycle")) {
            try PhysicalPlan.compile(graph)
        }
    }

    @Test func submittingWhileRunningIsRejected() async throws {
        let env = try LocalEnvironment("twice")
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let sink = CollectSink<Int>()
        let firstRecordArrived = Gate()
        env.fromSource(AsyncSequenceSource(stream))
            .map { value -> Int in
                firstRecordArrived.open()
                return value
            }
            .sink(sink)
        continuation.yield(1)
        let first = Task { try await env.submit() }
        await firstRecordArrived.wait()
        let error = await submitError(env)
        #expect(error?.code == .alreadyRunning)
        continuation.finish()
        let result = try await first.value
        #expect(result.status == .completed)
        #expect(sink.values == [1])
    }
}
