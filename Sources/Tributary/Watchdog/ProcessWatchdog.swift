import Synchronization
import Foundation

/// Runs a job's process and starts it again when it dies abnormally — a trap in user code (a
/// force unwrap, an index out of range), a SIGKILL — so the crash is recovered from the job's
/// latest checkpoint like any other failure. This closes the supervision tree at the top: no
/// in-process supervisor can catch a trap.
///
/// The command must run its job with a fixed `job_id` (and `strategy: "checkpoint"`), so every
/// start resumes the same job. Restarts are paced by a ``RestartStrategy``; past its limit the
/// watchdog gives up with ``WatchdogGaveUp``. A process that exits with a status no restart can
/// fix — a usage or configuration error (``ExitStatus/isPermanent(_:)``, 64–78 but 75) — is
/// not restarted: the watchdog gives up at once, with that status. ``WatchdogControl/stop(sending:)``
/// hands a signal to the process and ends the watchdog when the process ends.
///
/// ```swift
/// let watchdog = ProcessWatchdog(command: ["./count", "--job-id", "nightly"], restartStrategy: .fixed(delay: .zero, maxAttempts: 5))
/// let report = try await watchdog.run()
/// ```
public struct ProcessWatchdog: Sendable {
    /// One abnormal end of the process and what followed.
    public struct Crash: Sendable, CustomStringConvertible {
        /// 1 for the first crash.
        public let attempt: Int
        /// How the process ended: `signal 9`, `exit status 1`, …
        public let ending: String
        /// The pause before the next start, from the restart strategy.
        public let delay: Duration
        /// From the restarted process's launch to its first record processed again (read from
        /// the job's `events.jsonl` when ``ProcessWatchdog/jobFolder`` is set).
        public internal(set) var recoveryLatency: Duration?

        public var description: String {
            var text = "crash \(attempt): \(ending); restarted after \(delay.seconds) s"
            if let recoveryLatency { text += String(format: ", records flowed again %.1f ms after the restart", recoveryLatency.seconds * 1000) }
            return text
        }
    }

    public struct Report: Sendable {
        public let crashes: [Crash]
        /// How many times the process was started.
        public let starts: Int
        /// The signal ``WatchdogControl/stop(sending:)`` sent, if the watchdog was stopped.
        public var stoppedBy: Int32?
        /// The status a program that ran the command should exit with: the last process's exit
        /// status, or 128 + the signal that ended it (as a shell reports it).
        public var exitStatus: Int32 = 0
    }

    public let command: [String]
    public let restartStrategy: RestartStrategy
    public let workingDirectory: URL?
    /// The job's folder (`work_dir/<job_id>`), to measure recovery latency from its events.
    public let jobFolder: URL?
    /// Where the command's standard error goes (appended, across restarts); `nil`: this
    /// process's standard error. Tests that crash the command on purpose send its dying words
    /// (a trap's message) here rather than into their own output.
    public let childStandardError: URL?

    public init(
        command: [String], restartStrategy: RestartStrategy = .fixed(delay: .seconds(1), maxAttempts: 5), workingDirectory: URL? = nil,
        jobFolder: URL? = nil, childStandardError: URL? = nil
    ) {
        self.command = command
        self.restartStrategy = restartStrategy
        self.workingDirectory = workingDirectory
        self.jobFolder = jobFolder
        self.childStandardError = childStandardError
    }

    /// Runs the command until it exits with status 0.
    /// - Parameters:
    ///   - control: lets another task stop the run (`tributary supervise` forwards its
    ///     signals through it); without one the run ends only by the command's exits.
    ///   - report: told of every crash as it happens (for a progress display).
    /// - Throws: ``WatchdogGaveUp`` when the restart strategy's limit is reached; ``ProcessLaunchError`` when the
    ///   command cannot be started at all; ``ConfigurationError`` for a restart strategy out of range.
    public func run(control: WatchdogControl? = nil, report: (@Sendable (Crash) -> Void)? = nil) async throws -> Report {
        if let error = restartStrategy.configurationError(at: "restartStrategy") { throw error }
        let started = ContinuousClock.now
        var pacer = RestartPacer(strategy: restartStrategy, seed: nil)
        var crashes: [Crash] = []
        var starts = 0
        var pendingLatency: (index: Int, launchedAt: Date)?
        while true {
            if let signal = control?.stopSignal {
                return Report(crashes: crashes, starts: starts, stoppedBy: signal, exitStatus: 128 + signal)
            }
            let process = try launch()
            starts += 1
            control?.attach(process)
            if let pending = pendingLatency {
                crashes[pending.index].recoveryLatency = await firstRecordAfter(launchedAt: pending.launchedAt, while: process)
                pendingLatency = nil
            }
            let termination = await process.waitForExit()
            control?.attach(nil)
            let status: Int32
            switch termination {
            case .exited(let code): status = code
            case .signalled(let signal): status = 128 + signal
            }
            if let signal = control?.stopSignal {
                return Report(crashes: crashes, starts: starts, stoppedBy: signal, exitStatus: status)
            }
            if termination == .exited(0) {
                return Report(crashes: crashes, starts: starts)
            }
            let ending = termination.description
            if case .exited(let code) = termination, ExitStatus.isPermanent(code) {
                crashes.append(Crash(attempt: crashes.count + 1, ending: ending, delay: .zero, recoveryLatency: nil))
                throw WatchdogGaveUp(
                    report: Report(crashes: crashes, starts: starts, exitStatus: code),
                    reason: "the command exited with status \(code) (\(ExitStatus.describe(code))): a restart would end the same way",
                    exitStatus: code)
            }
            switch pacer.failure(at: ContinuousClock.now - started) {
            case .restart(let attempt, let delay):
                let crash = Crash(attempt: attempt, ending: ending, delay: delay, recoveryLatency: nil)
                crashes.append(crash)
                report?(crash)
                // In short steps, so a stop during a long delay ends the watchdog at once.
                var waited = Duration.zero
                while waited < delay, control?.stopSignal == nil {
                    let step = min(delay - waited, .milliseconds(50))
                    try await Task.sleep(for: step)
                    waited += step
                }
                pendingLatency = (crashes.count - 1, Date())
            case .giveUp(let attempt, let reason):
                crashes.append(Crash(attempt: attempt, ending: ending, delay: .zero, recoveryLatency: nil))
                throw WatchdogGaveUp(report: Report(crashes: crashes, starts: starts, exitStatus: status), reason: reason, exitStatus: status)
            }
        }
    }

    private func launch() throws -> SpawnedProcess {
        guard let executable = command.first else {
            throw ProcessLaunchError(executable: "", reason: "the watchdog's command is empty; give the program to run and its arguments")
        }
        return try SpawnedProcess(
            executable: executable, arguments: Array(command.dropFirst()), workingDirectory: workingDirectory?.path,
            standardError: childStandardError.map { .append(toFile: $0.path) } ?? .inherit)
    }

    /// Watches the job's `events.jsonl` for the resumed run's first record processed.
    private func firstRecordAfter(launchedAt: Date, while process: SpawnedProcess) async -> Duration? {
        guard let jobFolder else { return nil }
        let path = jobFolder.appendingPathComponent("events.jsonl").path
        while !process.hasExited {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let event = JobFolder.parseEvents(text).last(where: { $0.kind == .recoveryComplete && $0.time >= launchedAt })
            {
                return .seconds(event.time.timeIntervalSince(launchedAt))
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }
}

/// The watchdog stopped restarting: the process kept crashing past the restart strategy's
/// limit, or exited with a status no restart can fix.
public struct WatchdogGaveUp: Error, Sendable, CustomStringConvertible {
    public let report: ProcessWatchdog.Report
    public let reason: String
    /// The last process's exit status (128 + its signal if a signal ended it).
    public var exitStatus: Int32 = ExitStatus.failure
    public var description: String { "the watchdog gave up after \(report.crashes.count) crashes: \(reason)" }
}

/// Stops a running ``ProcessWatchdog``: the signal goes to the command's process (now, or as
/// soon as one runs), the watchdog starts no other, and ``ProcessWatchdog/run(control:report:)``
/// returns when the process has ended. `tributary supervise` calls it on SIGTERM, SIGINT and
/// SIGHUP, so stopping the supervisor stops the job instead of leaving it running on its own.
public final class WatchdogControl: Sendable {
    private struct State {
        var process: SpawnedProcess?
        var signal: Int32?
    }

    private let state = Mutex(State())

    public init() {}

    /// Sends `signal` to the process and ends the watchdog once it has ended. Only the first
    /// call's signal is kept as the reason; every call's is sent.
    public func stop(sending signal: Int32 = SIGTERM) {
        let process = state.withLock { state -> SpawnedProcess? in
            if state.signal == nil { state.signal = signal }
            return state.process
        }
        process?.send(signal)
    }

    /// The signal of the first ``stop(sending:)``, if any.
    public var stopSignal: Int32? { state.withLock { $0.signal } }

    /// The process now running (`nil`: none); one started after a stop gets its signal at once.
    func attach(_ process: SpawnedProcess?) {
        let pending = state.withLock { state -> Int32? in
            state.process = process
            return state.signal
        }
        if let process, let pending { process.send(pending) }
    }
}
