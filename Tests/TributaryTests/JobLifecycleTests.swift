import Foundation
import Testing
@testable import Tributary

@Suite struct JobLifecycleTests {
    @Test func jobIDsFollowTheDocumentedFormat() throws {
        let env = try LocalEnvironment("word count!")
        let pattern = #/^\d{8}_\d{6}_word_count__[0-9a-f]{6}$/#
        #expect(env.jobID.wholeMatch(of: pattern) != nil, "\(env.jobID)")
        #expect(try LocalEnvironment("x", config: ["job_id": "given-id"]).jobID == "given-id")
    }

    @Test func cancelStopsARunningJobAndReportsCancelled() async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let env = try LocalEnvironment("cancel")
        let arrived = Gate()
        let sink = CollectSink<Int>()
        env.fromSource(AsyncSequenceSource(stream))
            .map { value -> Int in
                arrived.open()
                return value
            }
            .keyBy { $0 % 2 }
            .reduce(+)
            .sink(sink)
        continuation.yield(1)
        let job = Task { try await env.submit() }
        await arrived.wait()
        env.cancel()
        let result = try await job.value
        #expect(result.status == .cancelled)
        continuation.finish()
    }

    @Test func cancellingTheSubmittingTaskStopsTheJob() async throws {
        let env = try LocalEnvironment("task-cancel")
        let arrived = Gate()
        env.fromSource(GeneratorSource(count: 1_000_000, ratePerSecond: 10) { $0 })
            .map { value -> Int in
                arrived.open()
                return value
            }
            .sink(CollectSink<Int>())
        let job = Task { try await env.submit() }
        await arrived.wait()
        job.cancel()
        let result = try await job.value
        #expect(result.status == .cancelled)
    }

    @Test func cancelWithoutARunningJobDoesNothing() throws {
        try LocalEnvironment("idle").cancel()
    }

    @Test func anEnvironmentCanRunItsPipelineAgain() async throws {
        let env = try LocalEnvironment("again")
        let sink = CollectSink<Int>()
        env.fromCollection([1, 2, 3]).sink(sink)
        _ = try await env.submit()
        _ = try await env.submit()
        #expect(sink.values == [1, 2, 3, 1, 2, 3])
    }

    @Test func resultDescriptionListsEveryOperator() async throws {
        let env = try LocalEnvironment("describe")
        env.fromCollection([1, 2]).map { $0 }.named("double").sink(CollectSink<Int>())
        let result = try await env.submit()
        #expect(result.jobName == "describe")
        #expect(result.jobID == env.jobID)
        #expect(result.description.contains("double [map ×1] in: 2 out: 2"))
        #expect(result.operators.map(\.name) == ["source-0", "double", "sink-2"])
    }
}
