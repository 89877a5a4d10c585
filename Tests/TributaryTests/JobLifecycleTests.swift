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

    /// A task cancelled before `submit()` starts anything cancels the job at once: the same
    /// result as ``LocalEnvironment/cancel()``, not a thrown `CancellationError`.
    @Test func aTaskCancelledBeforeSubmitCancelsTheJobAtOnce() async throws {
        let env = try LocalEnvironment("cancelled-early", config: ["work_dir": .string(FileManager.default.temporaryDirectory.appendingPathComponent("early-\(UUID())").path)])
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 1_000_000, ratePerSecond: 10) { $0 }).sink(sink)
        let started = Gate()
        let job = Task {
            await started.wait()
            return try await env.submit()
        }
        job.cancel()
        started.open()
        let result = try await job.value
        #expect(result.status == .cancelled)
        #expect(sink.values.count < 1_000_000)
    }

    /// `submit()` runs an environment's job once: a second call after it completed is an error
    /// naming the job, not a second run that would write its output again.
    @Test func aSecondSubmitOfACompletedJobIsAnError() async throws {
        let env = try LocalEnvironment("again")
        let sink = CollectSink<Int>()
        env.fromCollection([1, 2, 3]).sink(sink)
        _ = try await env.submit()
        let error = await #expect(throws: PipelineError.self) { try await env.submit() }
        #expect(error?.code == .jobAlreadyCompleted)
        #expect(error?.message.contains(env.jobID) == true)
        #expect(error?.message.contains("new LocalEnvironment") == true)
        #expect(sink.values == [1, 2, 3], "nothing ran twice")
    }

    /// After a cancel, a second `submit()` of the same environment resumes the job.
    @Test func aSubmitAfterACancelRunsTheJobToItsEnd() async throws {
        let env = try LocalEnvironment("resume-same-env")
        let arrived = Gate()
        let sink = CollectSink<Int>()
        env.fromSource(GeneratorSource(count: 1_000, ratePerSecond: 2_000) { $0 })
            .map { value -> Int in
                arrived.open()
                return value
            }
            .sink(sink)
        let job = Task { try await env.submit() }
        await arrived.wait()
        env.cancel()
        #expect(try await job.value.status == .cancelled)
        let result = try await env.submit()
        #expect(result.status == .completed)
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
