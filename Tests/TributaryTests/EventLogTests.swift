import Foundation
import Testing
@testable import Tributary
import TributaryTesting

@Suite struct EventLogTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func eventsJSONLTellsTheStoryOfARunWithFailures() async throws {
        let work = directory.path("work")
        // No metrics: their events would interleave with the story on a slow machine.
        let env = try LocalEnvironment("story", config: ["work_dir": .string(work), "metrics_interval": 0, "fault_tolerance": ["delay": 0]])
        let failures = FailureInjector(failOn: [4, 9])
        let skip = FailureInjector(failOn: [7], times: .max)
        env.fromCollection(Array(0..<12))
            .map { value -> Int in
                try failures.check(value)
                return value
            }.named("parse")
            .map { value -> Int in
                try skip.check(value)
                return value
            }.named("validate").supervised(.resume)
            .sink(CollectSink<Int>())
        _ = try await env.submit()

        let folder = URL(fileURLWithPath: work).appendingPathComponent(env.jobID)
        let decoder = JobEvent.decoder()
        let events = try lines(folder.appendingPathComponent("events.jsonl").path).map { line in
            try decoder.decode(JobEvent.self, from: Data(line.utf8))
        }
        let story = events.map { "\($0.kind.rawValue) \($0.operatorName ?? "-")" }
        // One batch: 'parse' runs over all of it (failing on 4 and 9) before 'validate' sees it.
        #expect(story == [
            "JOB_START -",
            "OPERATOR_FAILED parse", "OPERATOR_RESTARTED parse",
            "OPERATOR_FAILED parse", "OPERATOR_RESTARTED parse",
            "OPERATOR_FAILED validate", "RECORD_SKIPPED validate",
            "JOB_COMPLETE -",
        ])
        #expect(events.allSatisfy { $0.jobID == env.jobID })
        #expect(events[1].record == "4" && events[1].attempt == 1 && events[1].error == "injected failure on record 4")
        #expect(events[2].delaySeconds == 0 && events[2].attempt == 1)
        #expect(events[3].record == "9" && events[3].attempt == 2)
        #expect(events[6].recordIndex == 7 && events[6].record == "7")
        let human = try lines(folder.appendingPathComponent("events.log").path)
        #expect(human.count == events.count)
        #expect(human[2].contains("OPERATOR_RESTARTED") && human[2].contains("[parse]") && human[2].contains("attempt 1"))
        // Every line of the JSON file is an object with the documented keys.
        for line in try lines(folder.appendingPathComponent("events.jsonl").path) {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["event"] is String && object?["timestamp"] is String && object?["job_id"] as? String == env.jobID)
        }
    }

    @Test func jobSummaryIsWrittenAtTheEnd() async throws {
        let work = directory.path("work")
        let env = try LocalEnvironment("summary", config: ["work_dir": .string(work)])
        env.fromCollection([1, 2, 3]).sink(CollectSink<Int>())
        _ = try await env.submit()
        let data = try Data(contentsOf: URL(fileURLWithPath: work).appendingPathComponent(env.jobID).appendingPathComponent("job_summary.json"))
        let summary = try JSONDecoder().decode(JobSummary.self, from: data)
        #expect(summary.status == "completed")
        #expect(summary.jobID == env.jobID)
        #expect(summary.name == "summary")
        #expect(summary.operators.map(\.recordsIn) == [0, 3])
        #expect(summary.config["work_dir"] == .string(work))
        #expect(summary.resume.contains(env.jobID))
        #expect(try EnvironmentConfiguration(summary.config) == env.configuration, "the stored config parses back to the job's")
    }

    /// `split_chains: false` keeps a source's chain in one instance whatever the cores; the
    /// summary says where each operator ran, and the key round-trips through it.
    @Test func splitChainsFalseKeepsTheSourceChainInOneInstance() async throws {
        let work = directory.path("work")
        let env = try LocalEnvironment("fused", config: ["work_dir": .string(work), "split_chains": false])
        env.fromCollection(Array(0..<100)).map { $0 + 1 }.filter { $0 % 2 == 0 }.sink(CollectSink<Int>())
        _ = try await env.submit()
        let data = try Data(contentsOf: URL(fileURLWithPath: work).appendingPathComponent(env.jobID).appendingPathComponent("job_summary.json"))
        let summary = try JSONDecoder().decode(JobSummary.self, from: data)
        #expect(summary.operators.dropFirst().allSatisfy { $0.placement?.hasPrefix("fused into 'source-0'") == true }, "\(summary.operators.map(\.placement))")
        #expect(summary.config["split_chains"] == false)
        #expect(try EnvironmentConfiguration(summary.config) == env.configuration)
        #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["split_chains": "no"]) }
    }

    @Test func jobSummaryIsWrittenWhenTheJobFails() async throws {
        let work = directory.path("work")
        let env = try LocalEnvironment("fails", config: ["work_dir": .string(work), "fault_tolerance": ["strategy": "none"]])
        env.fromCollection([1, 2, 3]).map { value -> Int in
            if value == 2 { throw InjectedError("two") }
            return value
        }.named("picky").sink(CollectSink<Int>())
        await #expect(throws: JobFailedError.self) { try await env.submit() }
        let data = try Data(contentsOf: URL(fileURLWithPath: work).appendingPathComponent(env.jobID).appendingPathComponent("job_summary.json"))
        let summary = try JSONDecoder().decode(JobSummary.self, from: data)
        #expect(summary.status == "failed")
        #expect(summary.failure?.operatorName == "picky")
        #expect(summary.failure?.record == "2")
        #expect(summary.failureHistory.count == 1)
    }

    @Test func anUnwritableWorkDirIsReportedBeforeTheJobRuns() async throws {
        let blocker = try directory.write("file", "")
        let env = try LocalEnvironment("nowhere", config: ["work_dir": .string(blocker + "/sub")])
        let ran = Counter()
        env.fromCollection([1]).map { value -> Int in
            ran.increment()
            return value
        }.sink(CollectSink<Int>())
        await #expect(throws: JobFolderError.self) { try await env.submit() }
        #expect(ran.current == 0)
    }

    /// `onEvent` handlers get every event of the run, in the files' order, before `submit()`
    /// returns; a handler that blocks holds up the handlers, not the job.
    @Test(.timeLimit(.minutes(3))) func onEventHandlersSeeEveryEventInOrderAndNeverHoldUpTheJob() async throws {
        let work = directory.path("work")
        let env = try LocalEnvironment("hooked", config: ["work_dir": .string(work), "fault_tolerance": ["delay": 0]])
        let seen = Recorder<String>()
        let second = Recorder<String>()
        let blocked = DispatchSemaphore(value: 0)
        env.onEvent { event in
            if seen.values.isEmpty { blocked.wait() }
            seen.append(event.kind.rawValue + " " + event.message)
        }
        env.onEvent { event in second.append(event.kind.rawValue + " " + event.message) }
        let failures = FailureInjector(failOn: [30])
        let done = Gate()
        env.fromCollection(Array(0..<100))
            .map { value -> Int in
                try failures.check(value)
                if value == 99 { done.open() }
                return value
            }.named("parse")
            .sink(CollectSink<Int>())
        let job = Task { try await env.submit() }
        // The job reaches its last record while the first handler still holds the first event.
        await done.wait()
        #expect(seen.values.isEmpty)
        blocked.signal()
        let result = try await job.value
        #expect(result.status == .completed)

        let folder = URL(fileURLWithPath: work).appendingPathComponent(env.jobID)
        let decoder = JobEvent.decoder()
        let written = try lines(folder.appendingPathComponent("events.jsonl").path).map { line in
            let event = try decoder.decode(JobEvent.self, from: Data(line.utf8))
            return event.kind.rawValue + " " + event.message
        }
        #expect(seen.values == written, "every event, in the files' order, before submit() returned")
        #expect(second.values == written)
        #expect(written.contains { $0.hasPrefix("OPERATOR_RESTARTED") })
        #expect(written.last?.hasPrefix("JOB_COMPLETE") == true)
    }

    /// `events()` ends with the run: a `for await` over it finishes after the last event,
    /// with nothing to cancel; a new subscription sees the next run (here: the job resumed after
    /// a cancel).
    @Test(.timeLimit(.minutes(3))) func theEventStreamFinishesWhenTheRunEnds() async throws {
        let env = try LocalEnvironment("finishing", config: ["work_dir": .string(directory.path("work"))])
        let source = HoldingSource(count: 10, holdAt: 5, blocking: true)
        env.fromSource(source).map { $0 }.sink(CollectSink<Int>())
        for run in 0..<2 {
            let stream = env.events()
            let collected = Task {
                var kinds: [String] = []
                for await event in stream { kinds.append(event.kind.rawValue) }
                return kinds
            }
            let job = Task { try await env.submit() }
            if run == 0 {
                await source.reached.wait()
                env.cancel()
            }
            _ = try await job.value
            source.release.open()
            let kinds = await collected.value
            #expect(kinds.first == "JOB_START")
            #expect(kinds.last == (run == 0 ? "JOB_CANCELLED" : "JOB_COMPLETE"))
        }
    }

    /// A warning that matters reaches the terminal and the `onEvent` hook, not only the files;
    /// `print_warnings: false` keeps it off the terminal.
    @Test(arguments: [true, false])
    func aNonReplayableSourceUnderCheckpointsWarnsOnTheTerminalAndTheHook(print: Bool) async throws {
        let env = try LocalEnvironment("warns", config: [
            "work_dir": .string(directory.path("work")), "print_warnings": .bool(print),
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_dir": .string(directory.path("chk"))],
        ])
        let printed = Recorder<String>()
        env.warningOutput.withLock { $0 = { printed.append($0) } }
        let hooked = Recorder<JobEvent>()
        env.onEvent { if $0.kind == .warning { hooked.append($0) } }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        continuation.yield(1)
        continuation.finish()
        env.fromSource(AsyncSequenceSource(stream)).named("feed").sink(CollectSink<Int>())
        _ = try await env.submit()
        #expect(hooked.values.contains { $0.operatorName == "feed" && $0.message.contains("cannot be replayed") })
        if print {
            #expect(printed.values.count == hooked.values.count)
            #expect(printed.values.first?.hasPrefix("tributary: warning: job '\(env.jobID)', 'feed': source 'feed' cannot be replayed") == true)
        } else {
            #expect(printed.values.isEmpty)
        }
    }
}
