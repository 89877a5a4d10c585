import Foundation
import Tributary

/// Runs torture cases: each pipeline once without faults (the reference), then with its fault
/// plan and every resume the plan calls for, and compares each sink's committed output.
public struct TortureRunner: Sendable {
    /// Where each seed gets a folder (removed when the seed passes).
    public var directory: URL
    public var size: TortureSize
    /// The `tributary` executable, for plans that kill a child process (`tributary torture-child`).
    public var childExecutable: URL?

    public init(directory: URL, size: TortureSize = .test, childExecutable: URL? = nil) {
        self.directory = directory
        self.size = size
        self.childExecutable = childExecutable
    }

    /// Generates and runs one seed's case.
    public func run(seed: UInt64, killChild: Bool = false) async -> TortureOutcome {
        await run(TortureGenerator.make(seed: seed, size: size, childProcess: killChild, forceChildProcess: killChild))
    }

    public func run(_ testCase: TortureCase) async -> TortureOutcome {
        var outcome = TortureOutcome(testCase: testCase, problems: [], log: [])
        let folder = directory.appendingPathComponent("seed-\(testCase.seed)")
        do {
            try? FileManager.default.removeItem(at: folder)
            for sub in ["reference", "faulty"] {
                try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            try testCase.pipeline.writeInputs(to: folder)
            let expected = try await reference(testCase, folder: folder, log: &outcome.log)
            if testCase.faults.interruption.needsChildProcess {
                try await runInChildProcesses(testCase, folder: folder, expected: expected, outcome: &outcome)
            } else {
                try await runInProcess(testCase, folder: folder, expected: expected, outcome: &outcome)
            }
        } catch {
            outcome.problems.append("\(error)")
        }
        if outcome.passed { try? FileManager.default.removeItem(at: folder) }
        return outcome
    }

    /// The failure-free output, by sink: `strategy: "none"`, no faults.
    func reference(_ testCase: TortureCase, folder: URL, log: inout [String]) async throws -> [String: [TortureRecord]] {
        let env = try LocalEnvironment("torture-reference", config: [
            "work_dir": .string(folder.appendingPathComponent("reference/work").path),
            "batch_size": .int(testCase.faults.batchSize),
            "fault_tolerance": ["strategy": "none"],
        ])
        let outputs = TortureOutputs(testCase.pipeline, directory: folder.appendingPathComponent("reference"), flakyCommits: false)
        testCase.pipeline.build(on: env, inputs: folder, outputs: outputs)
        let result = try await env.submit()
        guard result.status == .completed else { throw TortureError("the reference run ended \(result.status.rawValue)") }
        log.append("reference completed")
        return try outputs.committed()
    }

    /// The configuration of the run with faults (and of its resumes).
    static func configuration(_ testCase: TortureCase, folder: URL, crashAt: (operatorName: String, record: Int)? = nil) -> [String: ConfigValue] {
        let faults = testCase.faults
        var rules: [ConfigValue] = faults.injections.map { rule in
            var fields: [String: ConfigValue] = [
                "operator": .string(rule.operatorName), "inject": .string(rule.kind), "at_records": .array(rule.atRecords.map { .int($0) }),
            ]
            if rule.kind == "hang" { fields["duration"] = 0.002 }
            return .object(fields)
        }
        if let crashAt {
            rules.append(["operator": .string(crashAt.operatorName), "inject": "crash_process", "at_records": [.int(crashAt.record)]])
        }
        return [
            "job_id": .string("torture-\(testCase.seed)"),
            "work_dir": .string(folder.appendingPathComponent("faulty/work").path),
            "batch_size": .int(faults.batchSize),
            "fault_injection": .array(rules),
            "fault_tolerance": [
                "strategy": "checkpoint",
                "checkpoint_interval": .double(faults.checkpointInterval),
                "checkpoint_timeout": .double(faults.checkpointTimeout),
                "checkpoint_dir": .string(folder.appendingPathComponent("faulty/checkpoints").path),
                "max_recovery_attempts": 100,
                "restart_strategy": "fixed",
                "delay": 0,
                "max_attempts": .int(faults.defaultMaxAttempts),
            ],
        ]
    }

    /// Closure faults by stage name, made once per execution so `times` counts over its resumes.
    static func closureFailures(_ faults: TortureFaultPlan) -> [String: FailureInjector<Int>] {
        var failures: [String: FailureInjector<Int>] = [:]
        for fault in faults.closureFaults {
            // Two faults in one stage: one injector with both origins (the larger `times`).
            let earlier = faults.closureFaults.filter { $0.stageName == fault.stageName }
            failures[fault.stageName] = FailureInjector(failOn: Set(earlier.flatMap(\.origins)), times: earlier.map(\.times).max() ?? 1)
        }
        return failures
    }

    func runInProcess(_ testCase: TortureCase, folder: URL, expected: [String: [TortureRecord]], outcome: inout TortureOutcome) async throws {
        let faults = testCase.faults
        let outputs = TortureOutputs(testCase.pipeline, directory: folder.appendingPathComponent("faulty"), flakyCommits: true)
        let failures = Self.closureFailures(faults)
        var interruption = faults.interruption
        var runs = 0
        while true {
            runs += 1
            guard runs <= 3 else { throw TortureError("the job did not complete in \(runs - 1) runs") }
            let env = try LocalEnvironment("torture", config: Self.configuration(testCase, folder: folder))
            testCase.pipeline.build(on: env, inputs: folder, outputs: outputs, failures: failures)
            let ending = await Self.submit(env, interruption: interruption, manualCheckpoints: runs == 1 ? faults.manualCheckpoints : 0)
            interruption = .none
            switch ending {
            case .success(let result):
                outcome.log.append(
                    "run \(runs) \(result.status.rawValue) (\(result.recoveries.count) recoveries, \(result.restarts.count) restarts, "
                        + "\(result.checkpoints.count) checkpoints, \(result.failedCheckpoints) failed)")
                switch result.status {
                case .completed:
                    if faults.expectsFailure { outcome.problems.append("the plan was designed to fail the job, but it completed") }
                    outcome.problems += TortureComparison.differences(expected: expected, actual: try outputs.committed())
                    return
                case .cancelled, .stopped:
                    continue
                case .failed:
                    outcome.problems.append("submit() returned status failed instead of throwing")
                    return
                }
            case .failure(let error):
                outcome.log.append("run \(runs) threw: \(error)")
                let committed = try outputs.committed()
                if faults.expectsFailure, error is JobFailedError {
                    outcome.problems += TortureComparison.differences(expected: expected, actual: committed, prefixOnly: true)
                } else {
                    outcome.problems.append("the job failed: \(error)")
                    outcome.problems += TortureComparison.differences(expected: expected, actual: committed, prefixOnly: true)
                }
                return
            }
        }
    }

    /// Runs the job, interrupting it as planned and triggering manual checkpoints: a trigger at
    /// the start and after each completed checkpoint while any are left.
    static func submit(_ env: LocalEnvironment, interruption: TortureFaultPlan.Interruption, manualCheckpoints: Int) async -> Result<
        JobResult, any Error
    > {
        let events = env.events()
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withDiscardingTaskGroup { triggers in
                    var completed = 0
                    var manualLeft = manualCheckpoints
                    for await event in events {
                        guard event.kind == .jobStart || event.kind == .checkpointComplete else { continue }
                        if event.kind == .checkpointComplete { completed += 1 }
                        switch interruption {
                        case .cancel(let after) where completed == after && event.kind == .checkpointComplete: env.cancel()
                        case .stop(let after) where completed == after && event.kind == .checkpointComplete: env.stop()
                        default: break
                        }
                        if manualLeft > 0 {
                            manualLeft -= 1
                            triggers.addTask { _ = try? await env.triggerCheckpoint() }
                        }
                    }
                    triggers.cancelAll()
                }
            }
            let result: Result<JobResult, any Error>
            do {
                result = .success(try await env.submit())
            } catch {
                result = .failure(error)
            }
            group.cancelAll()
            return result
        }
    }
}
