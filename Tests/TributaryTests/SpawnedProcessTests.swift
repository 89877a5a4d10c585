import Foundation
import Testing

@testable import Tributary
import TributaryTesting

/// The launcher every child process of the package goes through.
@Suite struct SpawnedProcessTests {
    @Test(.enabled(if: SpawnedProcess.closesInheritedDescriptors && FileManager.default.fileExists(atPath: "/proc/self/fd")))
    func aChildHoldsNoDescriptorOfItsParentBeyondTheStandardOnes() async throws {
        // Descriptors without close-on-exec, as a user's code or a library may leave them.
        let opened = (0..<40).map { _ in open("/dev/null", O_RDONLY) }
        defer { for descriptor in opened { close(descriptor) } }
        #expect(opened.allSatisfy { $0 > 2 })
        let child = try SpawnedProcess(executable: "/bin/ls", arguments: ["/proc/self/fd"], standardOutput: .pipe, standardError: .discard)
        let listing = try #require(child.standardOutput).readAll()
        #expect(await child.waitForExit() == .exited(0))
        let descriptors = listing.split(separator: "\n").compactMap { Int($0) }
        // 0–2, and the one `ls` opens itself to read the folder.
        #expect(descriptors.count == 4, "the child saw \(descriptors)")
        #expect(!descriptors.contains(Int(opened.last ?? 0)))
    }

    @Test func aChildStartsInItsWorkingDirectoryAndReportsItsExitStatus() async throws {
        let folder = try TemporaryDirectory()
        let child = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", "pwd; exit 3"], workingDirectory: folder.url.path, standardOutput: .pipe)
        let output = try #require(child.standardOutput).readAll()
        #expect(await child.waitForExit() == .exited(3))
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == folder.url.resolvingSymlinksInPath().path)
        #expect(child.hasExited)
    }

    @Test func aSignalledChildSaysWhichSignal() async throws {
        let child = try SpawnedProcess(executable: "/bin/sleep", arguments: ["600"])
        #expect(!child.hasExited)
        child.send(SIGKILL)
        #expect(await child.waitForExit() == .signalled(SIGKILL))
        #expect(SpawnedProcess.Termination.signalled(SIGKILL).description == "signal 9")
    }

    @Test func aMissingExecutableIsAnErrorThatNamesIt() throws {
        let error = #expect(throws: ProcessLaunchError.self) {
            try SpawnedProcess(executable: "/no/such/program", arguments: [])
        }
        #expect(error?.description == "cannot run /no/such/program: cannot start it: No such file or directory")
    }

    @Test func outputAppendsToAFileAndARelativeProgramIsFoundFromTheCurrentDirectory() async throws {
        let folder = try TemporaryDirectory()
        let log = folder.url.appendingPathComponent("child.log").path
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + "bin/sh"
        // Deeper than the current directory: the same relative path leads nowhere from there.
        let deep = (0..<depth).reduce(folder.url) { url, level in url.appendingPathComponent("d\(level)") }
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        for text in ["one", "two"] {
            let child = try SpawnedProcess(
                executable: relative, arguments: ["-c", "echo \(text); echo \(text)-err >&2"], workingDirectory: deep.path,
                standardOutput: .append(toFile: log), standardError: .append(toFile: log))
            #expect(await child.waitForExit() == .exited(0))
        }
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "one\none-err\ntwo\ntwo-err\n")
    }

    @Test func anOutputFileInAMissingFolderIsAnErrorThatNamesIt() throws {
        let error = #expect(throws: ProcessLaunchError.self) {
            try SpawnedProcess(executable: "/bin/true", arguments: [], standardOutput: .append(toFile: "/no/such/folder/out.log"))
        }
        #expect(error?.description.contains("/no/such/folder/out.log") == true)
    }

    @Test func aWatchdogWithoutACommandFailsWithAnError() async throws {
        let error = await #expect(throws: ProcessLaunchError.self) {
            try await ProcessWatchdog(command: []).run()
        }
        #expect(error?.description.contains("command is empty") == true)
    }
}

extension Int32 {
    /// Reads a pipe end to its end and closes it.
    fileprivate func readAll() -> String {
        String(decoding: SpawnedProcess.readToEnd(self), as: UTF8.self)
    }
}
