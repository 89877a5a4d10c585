import Foundation
import Tributary

extension TortureRunner {
    /// Runs a case whose interruption ends a process: each start is a `tributary torture-child`
    /// process, killed with SIGKILL by this one after some checkpoints (or ended by
    /// `crash_process` fault injection), then started again with the same job id, until one
    /// start completes the job. Only the file sinks' output outlives the processes.
    func runInChildProcesses(_ testCase: TortureCase, folder: URL, expected: [String: [TortureRecord]], outcome: inout TortureOutcome) async throws {
        guard let executable = childExecutable else {
            throw TortureError("seed \(testCase.seed) kills a child process, but the runner has no tributary executable to start")
        }
        var killAfter: Int?
        var kills = 0
        if case .kill(let after, let count) = testCase.faults.interruption { (killAfter, kills) = (after, count) }
        for start in 0..<(kills + 3) {
            var arguments = ["torture-child", "--seed", String(testCase.seed), "--dir", folder.path, "--start", String(start)]
            if testCase.size == .test { arguments.append("--small") }
            let child = try ChildProcess(
                executable: executable, arguments: arguments, standardError: folder.appendingPathComponent("child-\(start).stderr"))
            var checkpoints = 0
            var done: String?
            var killed = false
            for await line in child.lines {
                if line.hasPrefix("done") || line.hasPrefix("failed") { done = line }
                guard line.hasPrefix("checkpoint") else { continue }
                checkpoints += 1
                if let killAfter, start < kills, checkpoints >= killAfter, done == nil, !killed {
                    // Read on: a child that finished before the signal landed still reports.
                    child.kill()
                    killed = true
                }
            }
            let status = await child.waitForExit()
            outcome.log.append("start \(start): " + (killed ? "killed after \(checkpoints) checkpoints" : done ?? "exit \(status)") + " (status \(status))")
            if status == -SIGKILL {
                // The signal may land after the job completed but before the child said so: the
                // job's summary tells, and a completed job is not started again (its id is refused).
                let summary = try? JobFolder.summary(
                    jobID: "torture-\(testCase.seed)", workDirectory: folder.appendingPathComponent("faulty/work").path)
                guard summary?.status == JobResult.Status.completed.rawValue else { continue }
                done = "done completed"
            }
            guard status == 0 || status == -SIGKILL, done == "done completed" else {
                outcome.problems.append("start \(start) of the child ended with status \(status): \(done ?? "no result line") (see \(folder.path)/child-\(start).stderr)")
                return
            }
            let outputs = TortureOutputs(testCase.pipeline, directory: folder.appendingPathComponent("faulty"), flakyCommits: false)
            outcome.problems += TortureComparison.differences(expected: expected, actual: try outputs.committed())
            return
        }
        outcome.problems.append("the job did not complete in \(kills + 3) starts")
    }

    /// The body of `tributary torture-child`: runs the case with faults in this process (with
    /// `crash_process` in the first start when planned), prints `checkpoint <id>` as checkpoints
    /// complete and `done <status>` or `failed: <error>` at the end. Returns the exit status.
    public static func runChild(seed: UInt64, size: TortureSize, folder: URL, start: Int) async -> Int32 {
        let testCase = TortureGenerator.make(seed: seed, size: size, childProcess: true, forceChildProcess: true)
        var crashAt: (operatorName: String, record: Int)?
        if case .crashProcess(let name, let record) = testCase.faults.interruption, start == 0 { crashAt = (name, record) }
        do {
            let env = try LocalEnvironment("torture", config: configuration(testCase, folder: folder, crashAt: crashAt))
            let outputs = TortureOutputs(testCase.pipeline, directory: folder.appendingPathComponent("faulty"), flakyCommits: true)
            testCase.pipeline.build(on: env, inputs: folder, outputs: outputs, failures: closureFailures(testCase.faults))
            let events = env.events()
            let reporter = Task {
                for await event in events where event.kind == .checkpointComplete {
                    FileHandle.standardOutput.write(Data("checkpoint \(event.attempt ?? 0)\n".utf8))
                }
            }
            let result = await submit(env, interruption: .none, manualCheckpoints: testCase.faults.manualCheckpoints)
            reporter.cancel()
            let line: String
            switch result {
            case .success(let result): line = "done \(result.status.rawValue)"
            case .failure(let error): line = "failed: \(error)".replacingOccurrences(of: "\n", with: " ")
            }
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
            return line == "done completed" ? 0 : 1
        } catch {
            FileHandle.standardOutput.write(Data("failed: \(error)\n".utf8))
            return 1
        }
    }
}
