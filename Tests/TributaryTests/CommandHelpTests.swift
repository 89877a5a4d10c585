import Foundation
import Testing
import TributaryTesting

/// `tributary <command> --help` prints that command's usage on standard output and exits 0,
/// for every command; `supervise` reads `--help` only before the `--` that starts its command.
@Suite struct CommandHelpTests {
    @Test(.timeLimit(.minutes(3)), arguments: ["demo", "jobs", "job", "top", "events", "checkpoints", "supervise", "bench", "torture", "nexmark"])
    func everyCommandPrintsItsHelpAndSucceeds(command: String) async throws {
        for flag in ["--help", "-h"] {
            let child = try ChildProcess(executable: WatchdogTests.binary("tributary"), arguments: [command, flag])
            let text = await child.text()
            #expect(await child.waitForExit() == 0, "\(command) \(flag)")
            #expect(text.contains("tributary \(command)"), "\(command) \(flag) printed: \(text.prefix(200))")
        }
    }

    @Test(.timeLimit(.minutes(3))) func superviseHandsAHelpFlagAfterTheSeparatorToItsCommand() async throws {
        let child = try ChildProcess(
            executable: WatchdogTests.binary("tributary"), arguments: ["supervise", "--max-attempts", "1", "--", "/bin/echo", "--help"])
        let text = await child.text()
        #expect(await child.waitForExit() == 0)
        #expect(!text.contains("USAGE"), "the help flag went to echo, which printed it: \(text.prefix(200))")
    }
}
