import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Runs `Examples/CheckpointedWordCount` as a child process, kills it with SIGKILL at a random
/// moment several times, resumes it with the same job id, and checks the output file is
/// exactly what an uninterrupted run writes.
@Suite struct KillAndResumeTests {
    static var executable: URL {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let sibling = bundleFolder.appendingPathComponent("CheckpointedWordCount")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/CheckpointedWordCount")
    }

    /// A child running `CheckpointedWordCount` in `folder`.
    static func child(_ arguments: [String], in folder: URL) throws -> ChildProcess {
        try ChildProcess(executable: executable, arguments: arguments, in: folder)
    }

    @Test(.timeLimit(.minutes(3))) func killNineAndResumeGivesExactlyTheUninterruptedOutput() async throws {
        let folder = try TemporaryDirectory()
        let expected = try WordCountInput.write(lines: 12_000, into: folder.url)
        let arguments = ["in.txt", "out.txt", "--job-id", "kill-test", "--state-dir", "state", "--checkpoint-interval", "0.01", "--work", "3000"]

        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var completed = false
        for _ in 0..<4 where !completed {
            let child = try Self.child(arguments, in: folder.url)
            // Kill after a random number of completed checkpoints: somewhere mid-stream.
            let killAfter = Int.random(in: 1...3, using: &generator)
            var seen = 0
            var finished = false
            for await line in child.lines {
                if line.hasPrefix("checkpoint") { seen += 1 }
                if line.hasPrefix("done") { finished = true }
                if seen >= killAfter, !finished {
                    child.kill()
                    kills += 1
                    break
                }
            }
            let status = await child.waitForExit()
            if finished { #expect(status == 0) }
            // The kill may land after the job completed but before it said "done".
            let summary = try? JobFolder.summary(jobID: "kill-test", workDirectory: folder.url.appendingPathComponent("state/jobs").path)
            completed = finished || summary?.status == "completed"
        }
        #expect(kills >= 1, "the child was killed at least once before it finished")

        // A job that completed is not run again (its id is refused): resume only an unfinished one.
        if !completed {
            let last = try Self.child(arguments, in: folder.url)
            for await _ in last.lines {}
            #expect(await last.waitForExit() == 0)
        }
        let output = try String(contentsOf: folder.url.appendingPathComponent("out.txt"), encoding: .utf8)
        #expect(output.count == expected.count)
        #expect(output == expected, "no line lost, duplicated or cut after \(kills) kills")
    }

    /// One process owns a job: a second process started with the same job id fails at once,
    /// naming the first one's pid; once the first is killed with SIGKILL the kernel frees its
    /// lock, the job shows as crashed and resumable, and a resume gives the exact output.
    @Test(.timeLimit(.minutes(3))) func aSecondProcessCannotRunAJobAKilledOneLeftResumable() async throws {
        let folder = try TemporaryDirectory()
        let expected = try WordCountInput.write(lines: 12_000, into: folder.url)
        // An absolute state folder: the job's summary records it as given, and this test (not
        // in the child's folder) reads it.
        let state = folder.url.appendingPathComponent("state").path
        let arguments = ["in.txt", "out.txt", "--job-id", "owned", "--state-dir", state, "--checkpoint-interval", "0.01", "--work", "3000"]
        // The first process reads its input from a FIFO that this test keeps open after half
        // the lines: it checkpoints, then waits for more, so it is alive (and owns the job)
        // for as long as the test needs, without any timing.
        let input = folder.url.appendingPathComponent("in.txt")
        let text = try Data(contentsOf: input)
        let half = text.prefix(text.count / 2)
        try FileManager.default.removeItem(at: input)
        try #require(mkfifo(input.path, 0o644) == 0)
        let first = try Self.child(arguments, in: folder.url)
        let writer: FileHandle = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                // Opening a FIFO for writing waits for its reader: off the cooperative pool.
                continuation.resume(with: Result { try FileHandle(forWritingTo: input) })
            }
        }
        try writer.write(contentsOf: half)
        var sawCheckpoint = false
        for await line in first.lines where line.hasPrefix("checkpoint") {
            sawCheckpoint = true
            break
        }
        try #require(sawCheckpoint)

        let second = try ChildProcess(executable: Self.executable, arguments: arguments, in: folder.url, readingStandardError: true)
        let message = await second.text()
        let status = await second.waitForExit()
        #expect(status == ExitStatus.temporaryFailure, "another process holds the job: a later try may succeed")
        #expect(message.contains("already running in process \(first.processIdentifier)"), "\(message)")

        first.kill()
        _ = await first.waitForExit()
        try writer.close()
        try FileManager.default.removeItem(at: input)
        try text.write(to: input)
        let work = folder.url.appendingPathComponent("state/jobs").path
        guard case .crashed(let resumable) = JobFolder.liveness(jobID: "owned", workDirectory: work) else {
            Issue.record("a killed job shows as \(JobFolder.liveness(jobID: "owned", workDirectory: work))")
            return
        }
        #expect(resumable != nil)

        let last = try Self.child(arguments, in: folder.url)
        for await _ in last.lines {}
        #expect(await last.waitForExit() == 0)
        #expect(try String(contentsOf: folder.url.appendingPathComponent("out.txt"), encoding: .utf8) == expected)
        #expect(JobFolder.liveness(jobID: "owned", workDirectory: work) == .ended("completed"))
    }
}
