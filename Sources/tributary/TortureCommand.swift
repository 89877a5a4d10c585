import Foundation
import TributaryTesting

/// `tributary torture`: random pipelines under random faults, each compared record for record
/// with its failure-free run (see `TributaryTesting/Torture`).
enum TortureCommand {
    static let usage = "usage: tributary torture [--seeds N] [--first S] [--seed S [--minimize]] [--small] [--kill]"

    /// Runs the seeds and prints each failure; returns the exit status (1 if any seed failed).
    static func run(_ arguments: [String]) async -> Int32 {
        var seeds = 100
        var first: UInt64 = 0
        var single: UInt64?
        var size = TortureSize.full
        var kill = false
        var minimize = false
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--seeds":
                guard let value = rest.popFirst().flatMap(Int.init), value > 0 else { fail("--seeds needs a positive whole number") }
                seeds = value
            case "--first":
                guard let value = rest.popFirst().flatMap(UInt64.init) else { fail("--first needs a whole number, at least 0") }
                first = value
            case "--seed":
                guard let value = rest.popFirst().flatMap(UInt64.init) else { fail("--seed needs a whole number, at least 0") }
                single = value
            case "--small": size = .test
            case "--kill": kill = true
            case "--minimize": minimize = true
            case "--help", "-h":
                print(usage + """

                      --seeds N   how many seeds to run, from --first (default 100 from 0)
                      --seed S    replay one seed and print its pipeline and faults
                      --small     the small pipelines of the test suite (seeds from a test failure)
                      --minimize  with --seed: shrink a failing seed's pipeline and faults to what still fails
                      --kill      plans that kill a child process with SIGKILL (or crash_process) and resume it
                    """)
                return 0
            default: fail("unknown option '\(flag)' for 'torture' (\(usage))")
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-torture-\(getpid())")
        let runner = TortureRunner(directory: directory, size: size, childExecutable: URL(fileURLWithPath: CommandLine.arguments[0]).absoluteURL)
        if minimize {
            guard let single else { fail("--minimize needs --seed S") }
            let testCase = TortureGenerator.make(seed: single, size: size, childProcess: kill, forceChildProcess: kill)
            guard let outcome = await TortureMinimizer(runner: runner).minimize(testCase, progress: { print($0) }) else {
                print("seed \(single) passed 3 times: nothing to minimize")
                return 0
            }
            print("smallest failing case:")
            print(outcome)
            return 1
        }
        let range = single.map { $0...$0 } ?? first...(first + UInt64(seeds) - 1)
        var (passed, failed) = (0, 0)
        for seed in range {
            // A hang is a failure too: a seed that has not ended after two minutes (a few
            // seconds is usual) is reported with its seed, and the run ends.
            let hang = DispatchWorkItem {
                print("seed \(seed) HUNG: no result after 120 s\n  replay: swift run tributary torture --seed \(seed)\(kill ? " --kill" : "")")
                print("\(passed) passed, \(failed + 1) failed")
                exit(1)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: hang)
            defer { hang.cancel() }
            let outcome = await runner.run(seed: seed, killChild: kill)
            if outcome.passed {
                passed += 1
                if single != nil { print(outcome.testCase.description + "\nruns: " + outcome.log.joined(separator: "; ")) }
            } else {
                failed += 1
                print(outcome)
                print("  files kept in \(directory.appendingPathComponent("seed-\(seed)").path)")
            }
        }
        if failed == 0 { try? FileManager.default.removeItem(at: directory) }
        print("\(passed) passed, \(failed) failed")
        return failed == 0 ? 0 : 1
    }

    /// `tributary torture-child` (internal): one start of a seed's job, for `--kill` plans.
    static func child(_ arguments: [String]) async -> Int32 {
        var seed: UInt64?
        var folder: String?
        var start = 0
        var size = TortureSize.full
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            switch flag {
            case "--seed": seed = rest.popFirst().flatMap(UInt64.init)
            case "--dir": folder = rest.popFirst()
            case "--start": start = rest.popFirst().flatMap(Int.init) ?? 0
            case "--small": size = .test
            default: fail("unknown option '\(flag)' for 'torture-child'")
            }
        }
        guard let seed, let folder else { fail("usage: tributary torture-child --seed S --dir D [--start K] [--small]") }
        return await TortureRunner.runChild(seed: seed, size: size, folder: URL(fileURLWithPath: folder), start: start)
    }
}
