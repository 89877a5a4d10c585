import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// The CLI's exit statuses follow `sysexits.h`; `tributary supervise` does not restart a job
/// that ended with a usage or configuration error, exits with its job's status, and passes a
/// SIGTERM on to the job instead of leaving it running on its own.
@Suite struct ExitStatusTests {
    func run(_ arguments: [String]) async throws -> (status: Int32, lines: [String]) {
        let child = try ChildProcess(executable: WatchdogTests.binary("tributary"), arguments: arguments, readingStandardError: false)
        var lines: [String] = []
        for await line in child.lines { lines.append(line) }
        return (await child.waitForExit(), lines)
    }

    @Test func errorsMapToTheirStatuses() throws {
        #expect(ExitStatus.for(ConfigurationError(code: .unknownKey, keyPath: "x", given: nil, allowed: "y")) == 78)
        #expect(ExitStatus.for(PipelineError(code: .invalidArgument, message: "m")) == 78)
        #expect(ExitStatus.for(CancellationError()) == 1)
        #expect(ExitStatus.for(PipelineError(code: .jobAlreadyCompleted, message: "m")) == 0, "nothing left to do")
        #expect(ExitStatus.isPermanent(64) && ExitStatus.isPermanent(78) && ExitStatus.isPermanent(66))
        #expect(!ExitStatus.isPermanent(75) && !ExitStatus.isPermanent(1) && !ExitStatus.isPermanent(0) && !ExitStatus.isPermanent(137))
    }

    @Test(.timeLimit(.minutes(3))) func theCommandsExitWithTheStatusOfWhatWentWrong() async throws {
        let folder = try TemporaryDirectory()
        #expect(try await run(["jobs", "list", "--bogus"]).status == 64, "a usage error")
        #expect(try await run(["frobnicate"]).status == 64)
        #expect(try await run(["job", "show", "no-such-job", "--work-dir", folder.path("work")]).status == 66, "a job that does not exist")
        #expect(try await run(["events", "no-such-job", "--work-dir", folder.path("work")]).status == 66)
        #expect(try await run(["checkpoints", "no-such-job", "--checkpoint-dir", folder.path("chk")]).status == 66)
        #expect(try await run(["checkpoints", "verify", "no-such-job", "--checkpoint-dir", folder.path("chk")]).status == 66)
        let empty = try await run(["jobs", "list", "--json", "--work-dir", folder.path("work")])
        #expect(empty.status == 0)
        #expect(empty.lines.joined() == "[]", "--json prints JSON even when there is nothing")
    }

    @Test(.timeLimit(.minutes(3))) func aJobThatListsAndShowsAsJSON() async throws {
        let folder = try TemporaryDirectory()
        let env = try LocalEnvironment("listed", config: ["work_dir": .string(folder.path("work")), "job_id": "listed-1"])
        env.fromCollection(Array(0..<10)).map { $0 + 1 }.named("inc").sink(CollectSink<Int>())
        _ = try await env.submit()
        let list = try await run(["jobs", "list", "--json", "--work-dir", folder.path("work")])
        #expect(list.status == 0)
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(list.lines.joined(separator: "\n").utf8)) as? [[String: Any]])
        #expect(jobs.count == 1)
        #expect((jobs.first?["job"] as? [String: Any])?["job_id"] as? String == "listed-1")
        #expect(jobs.first?["status"] as? String == "completed")
        let show = try await run(["job", "show", "listed-1", "--json", "--work-dir", folder.path("work")])
        let job = try #require(try JSONSerialization.jsonObject(with: Data(show.lines.joined(separator: "\n").utf8)) as? [String: Any])
        let operators = try #require((job["job"] as? [String: Any])?["operators"] as? [[String: Any]])
        #expect(operators.contains { $0["name"] as? String == "inc" && $0["records_in"] as? Int == 10 })
        let events = try await run(["events", "listed-1", "--json", "--work-dir", folder.path("work")])
        #expect(events.status == 0)
        #expect(!events.lines.isEmpty)
        for line in events.lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "a JSON line: \(line)") }
    }

    @Test(.timeLimit(.minutes(3))) func superviseDoesNotRestartAConfigurationErrorAndExitsWithIt() async throws {
        let configuration = try await run(["supervise", "--delay", "0", "--max-attempts", "5", "--", "/bin/sh", "-c", "echo started; exit 78"])
        #expect(configuration.lines.filter { $0 == "started" }.count == 1, "started once, not five times")
        #expect(configuration.status == 78)
        let temporary = try await run(["supervise", "--delay", "0", "--max-attempts", "2", "--", "/bin/sh", "-c", "echo started; exit 75"])
        #expect(temporary.lines.filter { $0 == "started" }.count == 3, "a temporary failure is restarted")
        #expect(temporary.status == 75)
    }

    @Test(.timeLimit(.minutes(3))) func aSignalToSuperviseStopsItsJob() async throws {
        let supervisor = try ChildProcess(
            executable: WatchdogTests.binary("tributary"), arguments: ["supervise", "--delay", "0", "--", "/bin/sh", "-c", "echo $$; exec sleep 300"])
        var iterator = supervisor.lines.makeAsyncIterator()
        let pid = try #require(await iterator.next().flatMap { Int32($0) }, "the job's process id")
        supervisor.send(SIGTERM)
        #expect(await supervisor.waitForExit() == 128 + SIGTERM, "the job's status: ended by SIGTERM")
        #expect(kill(pid, 0) == -1 && errno == ESRCH, "the job's process is gone, not left running")
    }
}
