import Foundation
import Testing

@testable import Tributary
import TributaryTesting

/// The launcher every child process of the package goes through.
@Suite struct SpawnedProcessTests {
    @Test func aChildHoldsNoDescriptorOfItsParentBeyondTheStandardOnes() async throws {
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

    @Test func aWatchdogWithoutACommandFailsWithAnError() async throws {
        let error = await #expect(throws: ProcessLaunchError.self) {
            try await ProcessWatchdog(command: []).run()
        }
        #expect(error?.description.contains("command is empty") == true)
    }
}

extension Int32 {
    /// Reads a descriptor to its end and closes it.
    fileprivate func readAll() -> String {
        defer { close(self) }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(self, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(contentsOf: buffer[..<count])
        }
    }
}
