import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `tributary supervise` restarts a job process that traps (a force unwrap of nil in user
/// code), and the job's committed output is still exactly the expected one.
@Suite struct WatchdogTests {
    static func binary(_ name: String) -> URL {
        let bundleFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let sibling = bundleFolder.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/\(name)")
    }

    @Test(.timeLimit(.minutes(3))) func aProcessThatTrapsIsRestartedAndTheOutputIsExactlyOnce() async throws {
        let folder = try TemporaryDirectory()
        let expected = try WordCountInput.write(lines: 3_000, into: folder.url)
        let child = try ChildProcess(
            executable: Self.binary("tributary"),
            arguments: [
                "supervise", "--delay", "0", "--max-attempts", "5", "--job-dir", "state/jobs/trapping", "--",
                Self.binary("CheckpointedWordCount").path, "in.txt", "out.txt", "--job-id", "trapping", "--state-dir", "state",
                "--checkpoint-interval", "0.005", "--trap-at", "250", "--trap-times", "3", "--trap-file", "traps.count",
            ],
            in: folder.url, readingStandardError: true)
        let report = await child.text()
        #expect(await child.waitForExit() == 0, "\(report)")
        let crashes = report.split(separator: "\n").filter { $0.hasPrefix("tributary supervise: crash") }
        #expect(crashes.count == 3, "three traps, each restarted: \(report)")
        #expect(crashes.allSatisfy { $0.contains("signal") })
        #expect(report.contains("the job finished after 4 starts and 3 crashes"))
        #expect(try String(contentsOf: folder.url.appendingPathComponent("traps.count"), encoding: .utf8) == "3")
        let output = try String(contentsOf: folder.url.appendingPathComponent("out.txt"), encoding: .utf8)
        #expect(output == expected, "no line lost, duplicated or cut after three traps")
    }

    @Test func theWatchdogGivesUpPastItsRestartLimit() async throws {
        let folder = try TemporaryDirectory()
        _ = try WordCountInput.write(lines: 3_000, into: folder.url)
        let watchdog = ProcessWatchdog(
            command: [Self.binary("CheckpointedWordCount").path, "in.txt", "out.txt", "--job-id", "hopeless", "--state-dir", "state", "--trap-at", "5", "--trap-times", "100"],
            restartStrategy: .fixed(delay: .zero, maxAttempts: 2), workingDirectory: folder.url,
            childStandardError: folder.url.appendingPathComponent("child.stderr"))
        let error = await #expect(throws: WatchdogGaveUp.self) { try await watchdog.run() }
        #expect(error?.report.starts == 3)
        #expect(error?.report.crashes.count == 3)
    }
}
