import Foundation
import Tributary

// The `tributary` command-line tool.

let usage = """
    tributary — run and inspect Tributary streaming jobs

    USAGE:
      tributary demo [--records N]                 run a stateful pipeline on generated data, failures injected, and
                                                   report what it did (--records: default 2,000,000)
      tributary jobs list [--json] [--work-dir D]  list the jobs in a work directory (default .tributary)
      tributary jobs prune [--dry-run] [--policy keep_all|keep_failed_only|cleanup_all] [--max-days N] [--json] [--work-dir D]
                                                   remove job folders and checkpoints by a retention policy (default:
                                                   the newest job's retention config) and list them; never a running
                                                   job or the checkpoint a failed job resumes from
      tributary job show <job_id> [--json] [--work-dir D]
                                                   show one job: status, operators, failures, how to resume
      tributary top <job_id> [--once] [--work-dir D]
                                                   a live view of a running job: operators with rates, queues and
                                                   backpressure, checkpoints, restarts, the process; redrawn at each
                                                   metrics sample until the job ends (--once: one screen)
      tributary events <job_id> [--follow] [--json] [--work-dir D]
                                                   print a job's events (--json: as JSON lines); --follow keeps
                                                   printing until it ends
      tributary checkpoints <job_id> [--json] [--checkpoint-dir D]
                                                   list a job's checkpoints with sizes and times (default .checkpoints)
      tributary checkpoints verify <job_id> [--checkpoint-dir D]
                                                   verify every checkpoint's files and checksums
      tributary supervise [--restart-strategy fixed|exponential] [--delay S] [--max-attempts N] [--job-dir D] -- <command...>
                                                   run a job's process and restart it when it crashes (a trap, SIGKILL);
                                                   the command must use a fixed job_id so each start resumes the job;
                                                   an exit status of 64-78 (but 75: a usage or configuration error)
                                                   is not restarted; SIGTERM, SIGINT and SIGHUP are passed to the job
                                                   (defaults: --restart-strategy fixed, --delay 1 s, --max-attempts 5,
                                                   --job-dir: none; with the job's folder, each restart reports how soon
                                                   records flowed again)
      tributary bench [--quick] [--json] [--svg DIR]
                                                   recovery benchmarks of the built-in workload: latency percentiles,
                                                   checkpoints, throughput, an exactly-once check; charts as SVG
                                                   (1,000,000 records × 3 runs; --quick: 200,000 × 1; no charts
                                                   unless --svg)
      tributary torture [--seeds N] [--first S] [--seed S] [--small] [--kill]
                                                   random pipelines under random faults, each compared record for record
                                                   with its failure-free run; ends with "N passed, M failed"
                                                   (defaults: --seeds 100 from --first 0)
      tributary nexmark --query Q (--events FILE | --generate N) --out DIR [--checkpoint-interval S]
                                                   run a Nexmark benchmark query and write its sorted result as CSV
      tributary --help                             show this help
      tributary --version                          show the version

    EXIT STATUS:
      0 success, 1 failure, 64 usage error, 66 job or file not found, 78 configuration error;
      supervise exits with its job's status (128 + N when signal N ended it)

    Run the demo in release mode for realistic numbers:
      swift run -c release tributary demo
    """

let arguments = Array(CommandLine.arguments.dropFirst())
let commands = ["demo", "jobs", "job", "top", "events", "checkpoints", "supervise", "bench", "torture", "nexmark"]

/// Takes `--work-dir D` out of `rest`, if present.
func workDirectory(_ rest: inout [String]) -> String {
    guard let index = rest.firstIndex(of: "--work-dir") else { return ".tributary" }
    guard index + 1 < rest.count else { fail("--work-dir needs a directory") }
    let directory = rest[index + 1]
    rest.removeSubrange(index...(index + 1))
    return directory
}

/// The lines of `usage` about `command`: its synopsis lines and the indented lines under them.
func usage(of command: String) -> String {
    var lines: [String] = []
    var taking = false
    for line in usage.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("  tributary ") {
            taking = line.hasPrefix("  tributary \(command) ") || line == "  tributary \(command)"
        } else if !line.hasPrefix("      ") {
            taking = false
        }
        if taking { lines.append(String(line)) }
    }
    return "USAGE:\n" + lines.joined(separator: "\n")
}

// `tributary <command> --help` (or -h) prints that command's usage and succeeds, as users of
// command-line tools expect; for `supervise`, only before the `--` that starts the command it
// runs. `nexmark` and `torture` print their own, longer help.
if let command = arguments.first, commands.contains(command), command != "nexmark", command != "torture" {
    let own = arguments.dropFirst().prefix { $0 != "--" }
    if own.contains("--help") || own.contains("-h") {
        print(usage(of: command))
        exit(0)
    }
}

/// A usage error: the message, a pointer to the help, status 64.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n\nRun 'tributary --help' for usage.\n".utf8))
    exit(ExitStatus.usage)
}

/// An error that is not the caller's syntax: the message and `status`.
func stop(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(status)
}

/// Takes `flag` out of `rest`; returns whether it was there.
func take(_ flag: String, from rest: inout [String]) -> Bool {
    let had = rest.contains(flag)
    rest.removeAll { $0 == flag }
    return had
}

/// 66 when the job's folder does not exist, else 1.
func missingJobStatus(_ jobID: String, workDirectory: String) -> Int32 {
    let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID).path
    return FileManager.default.fileExists(atPath: folder) ? ExitStatus.failure : ExitStatus.notFound
}

switch arguments.first {
case nil, "--help", "-h", "help":
    print(usage)
case "--version":
    print("tributary 0.1.0")
case "demo":
    var records = 2_000_000
    var rest = arguments.dropFirst()
    while let flag = rest.popFirst() {
        switch flag {
        case "--records":
            guard let text = rest.popFirst(), let value = Int(text), value > 0 else {
                fail("--records needs a positive whole number, e.g. --records 500000")
            }
            records = value
        default:
            fail("unknown option '\(flag)' for 'demo' (allowed: --records N)")
        }
    }
    do {
        try await Demo.run(records: records)
    } catch {
        FileHandle.standardError.write(Data("demo failed: \(error)\n".utf8))
        exit(1)
    }
case "jobs":
    var rest = Array(arguments.dropFirst())
    let directory = workDirectory(&rest)
    let json = take("--json", from: &rest)
    if rest.first == "prune" {
        rest.removeFirst()
        let dryRun = take("--dry-run", from: &rest)
        var retention = JobCommands.configuredRetention(workDirectory: directory)
        var given = false
        while let flag = rest.first {
            rest.removeFirst()
            guard let value = rest.first else { fail("\(flag) needs a value") }
            rest.removeFirst()
            switch flag {
            case "--policy":
                guard let policy = RetentionConfiguration.Policy(rawValue: value) else {
                    fail("--policy must be keep_all, keep_failed_only or cleanup_all, not '\(value)'")
                }
                retention = RetentionConfiguration(policy: policy, maxDays: given ? retention?.maxDays : nil)
            case "--max-days":
                guard let days = Double(value), days > 0, days.isFinite else { fail("--max-days needs a number of days greater than 0") }
                retention = RetentionConfiguration(policy: given ? retention?.policy ?? .keepAll : .keepAll, maxDays: days)
            default:
                fail("unknown option '\(flag)' for 'jobs prune' (allowed: --dry-run, --policy, --max-days, --json, --work-dir)")
            }
            given = true
        }
        guard let retention else {
            fail("no retention policy: no job in \(directory) configured one; give --policy keep_failed_only, cleanup_all or keep_all, or --max-days N")
        }
        JobCommands.prune(workDirectory: directory, retention: retention, dryRun: dryRun, json: json)
        exit(ExitStatus.success)
    }
    guard rest == ["list"] || rest.isEmpty else { fail("usage: tributary jobs list [--json] [--work-dir D]") }
    JobCommands.list(workDirectory: directory, json: json)
case "job":
    var rest = Array(arguments.dropFirst())
    let directory = workDirectory(&rest)
    let json = take("--json", from: &rest)
    guard rest.count == 2, rest[0] == "show" else { fail("usage: tributary job show <job_id> [--json] [--work-dir D]") }
    do {
        try JobCommands.show(jobID: rest[1], workDirectory: directory, json: json)
    } catch {
        stop("\(error)", status: missingJobStatus(rest[1], workDirectory: directory))
    }
case "top":
    var rest = Array(arguments.dropFirst())
    let directory = workDirectory(&rest)
    let once = take("--once", from: &rest)
    guard rest.count == 1 else { fail("usage: tributary top <job_id> [--once] [--work-dir D]") }
    exit(await TopCommand.run(jobID: rest[0], workDirectory: directory, once: once))
case "events":
    var rest = Array(arguments.dropFirst())
    let directory = workDirectory(&rest)
    let follow = take("--follow", from: &rest)
    let json = take("--json", from: &rest)
    guard rest.count == 1 else { fail("usage: tributary events <job_id> [--follow] [--json] [--work-dir D]") }
    do {
        try await JobCommands.events(jobID: rest[0], workDirectory: directory, follow: follow, json: json)
    } catch {
        stop("\(error)", status: missingJobStatus(rest[0], workDirectory: directory))
    }
case "checkpoints":
    var rest = Array(arguments.dropFirst())
    var directory = ".checkpoints"
    if let index = rest.firstIndex(of: "--checkpoint-dir") {
        guard index + 1 < rest.count else { fail("--checkpoint-dir needs a directory") }
        directory = rest[index + 1]
        rest.removeSubrange(index...(index + 1))
    }
    let json = take("--json", from: &rest)
    if rest.count == 2, rest[0] == "verify" {
        guard let allValid = CheckpointCommands.verify(jobID: rest[1], checkpointDirectory: directory) else { exit(ExitStatus.notFound) }
        exit(allValid ? ExitStatus.success : ExitStatus.failure)
    }
    guard rest.count == 1 else { fail("usage: tributary checkpoints [verify] <job_id> [--json] [--checkpoint-dir D]") }
    if !CheckpointCommands.list(jobID: rest[0], checkpointDirectory: directory, json: json) { exit(ExitStatus.notFound) }
case "bench":
    var rest = Array(arguments.dropFirst())
    let quick = rest.contains("--quick")
    let json = rest.contains("--json")
    rest.removeAll { $0 == "--quick" || $0 == "--json" }
    var svg: String?
    if let index = rest.firstIndex(of: "--svg") {
        guard index + 1 < rest.count else { fail("--svg needs a directory") }
        svg = rest[index + 1]
        rest.removeSubrange(index...(index + 1))
    }
    guard rest.isEmpty else { fail("unknown option '\(rest[0])' for 'bench' (allowed: --quick, --json, --svg DIR)") }
    do {
        let exactlyOnce = try await BenchCommand.run(quick: quick, json: json, svgDirectory: svg)
        if !exactlyOnce { exit(1) }
    } catch {
        FileHandle.standardError.write(Data("bench failed: \(error)\n".utf8))
        exit(1)
    }
case "torture":
    exit(await TortureCommand.run(Array(arguments.dropFirst())))
case "nexmark":
    exit(await NexmarkCommand.run(Array(arguments.dropFirst())))
case "torture-child":
    exit(await TortureCommand.child(Array(arguments.dropFirst())))
case "supervise":
    guard let separator = arguments.firstIndex(of: "--"), separator + 1 < arguments.count else {
        fail("usage: tributary supervise [options] -- <command...>")
    }
    var flags = Array(arguments[1..<separator])
    let command = Array(arguments[(separator + 1)...])
    func take(_ name: String) -> String? {
        guard let index = flags.firstIndex(of: name) else { return nil }
        guard index + 1 < flags.count else { fail("\(name) needs a value") }
        defer { flags.removeSubrange(index...(index + 1)) }
        return flags[index + 1]
    }
    let kind = take("--restart-strategy") ?? "fixed"
    guard let delay = Double(take("--delay") ?? "1"), delay >= 0, delay <= 86_400 else { fail("--delay needs a number of seconds from 0 to 86400") }
    guard let attempts = Int(take("--max-attempts") ?? "5"), attempts >= 0 else { fail("--max-attempts needs a whole number, at least 0") }
    let jobFolder = take("--job-dir").map { URL(fileURLWithPath: $0) }
    guard flags.isEmpty else { fail("unknown option '\(flags[0])' for 'supervise' (allowed: --restart-strategy, --delay, --max-attempts, --job-dir)") }
    let strategy: RestartStrategy
    switch kind {
    case "fixed": strategy = .fixed(delay: .seconds(delay), maxAttempts: attempts)
    case "exponential": strategy = .exponential(initialDelay: .seconds(delay), maxDelay: .seconds(max(delay, 1) * 32), maxAttempts: attempts)
    default: fail("--restart-strategy must be fixed or exponential, not '\(kind)'")
    }
    var executable = command[0]
    if !executable.contains("/"), let path = ProcessInfo.processInfo.environment["PATH"] {
        executable = path.split(separator: ":").map { "\($0)/\(executable)" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? executable
    }
    let watchdog = ProcessWatchdog(command: [executable] + command.dropFirst(), restartStrategy: strategy, jobFolder: jobFolder)
    // Stopping the supervisor stops its job: the signal is passed on, and no restart follows.
    let control = WatchdogControl()
    let signalSources = [SIGTERM, SIGINT, SIGHUP].map { signalNumber in
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { control.stop(sending: signalNumber) }
        source.resume()
        return source
    }
    do {
        let report = try await watchdog.run(control: control) { crash in
            FileHandle.standardError.write(Data("tributary supervise: \(crash)\n".utf8))
        }
        withExtendedLifetime(signalSources) {}
        if let signal = report.stoppedBy {
            FileHandle.standardError.write(Data("tributary supervise: stopped by signal \(signal); the job ended with status \(report.exitStatus)\n".utf8))
            exit(report.exitStatus)
        }
        FileHandle.standardError.write(Data("tributary supervise: the job finished after \(report.starts) starts and \(report.crashes.count) crashes\n".utf8))
        for crash in report.crashes where crash.recoveryLatency != nil {
            FileHandle.standardError.write(Data("  \(crash)\n".utf8))
        }
    } catch let gaveUp as WatchdogGaveUp {
        FileHandle.standardError.write(Data("tributary supervise: \(gaveUp)\n".utf8))
        exit(gaveUp.exitStatus == 0 ? ExitStatus.failure : gaveUp.exitStatus)
    } catch {
        FileHandle.standardError.write(Data("tributary supervise: \(error)\n".utf8))
        exit(error is ConfigurationError ? ExitStatus.configuration : ExitStatus.failure)
    }
case let command?:
    var message = "unknown command '\(command)'"
    let close = commands.min { levenshtein($0, command) < levenshtein($1, command) }
    if let close, levenshtein(close, command) <= 2 { message += "; did you mean '\(close)'?" }
    fail(message)
}

func levenshtein(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}
