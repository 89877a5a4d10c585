import Foundation
import Synchronization

/// Samples a job's metrics every `metrics_interval` and at its end: reads
/// each instance's ``InstanceMeter`` and input queue, the supervisors' and coordinator's
/// counts and the process's figures; writes each sample to `metrics.jsonl`, publishes it to
/// ``LocalEnvironment/metrics()`` and emits `RESOURCE_USAGE` and `PERFORMANCE_METRIC` events.
actor MetricsRecorder {
    /// What one attempt gives the recorder to read.
    struct Attempt: Sendable {
        /// Meters by vertex, then instance.
        let meters: [[InstanceMeter]]
        let inboxes: [[(any ClosableInbox)?]]
        /// Records in and out per node over the attempts before this one.
        let base: [(recordsIn: Int, recordsOut: Int)]
        let coordinator: CheckpointCoordinator?
        /// Checkpoints completed and failed in the attempts before this one.
        let checkpointsBefore: (completed: Int, failed: Int)
    }

    private let jobID: String
    private let plan: PhysicalPlan
    private let interval: Duration
    private let events: EventLog
    private let hub: MetricsHub
    private let supervisor: JobSupervisor
    private let workDirectory: String
    private let checkpointDirectory: String?
    private let started: ContinuousClock.Instant
    private let file: FileHandle?
    private var attempt: Attempt?
    private let health: HealthConfiguration
    private let control: JobControl
    /// Since when each operator's input queue has been full, by node.
    private var fullSince: [Int: ContinuousClock.Instant] = [:]
    /// The checks crossed now: each acts once per crossing.
    private var crossed: Set<String> = []
    private var previous: (at: ContinuousClock.Instant, cpu: Duration, records: [(recordsIn: Int, recordsOut: Int)])
    private(set) var last: JobMetrics?

    init(
        jobID: String, plan: PhysicalPlan, configuration: EnvironmentConfiguration, events: EventLog, hub: MetricsHub,
        supervisor: JobSupervisor, control: JobControl, started: ContinuousClock.Instant
    ) {
        self.health = configuration.health
        self.control = control
        self.jobID = jobID
        self.plan = plan
        self.interval = configuration.metricsInterval
        self.events = events
        self.hub = hub
        self.supervisor = supervisor
        self.started = started
        workDirectory = configuration.workDirectory
        checkpointDirectory = configuration.faultTolerance.strategy == .checkpoint ? configuration.faultTolerance.checkpointDirectory : nil
        let path = events.folder.appendingPathComponent("metrics.jsonl").path
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        file = FileHandle(forWritingAtPath: path)
        _ = try? file?.seekToEnd()
        previous = (started, ProcessStats.cpuTime(), Array(repeating: (0, 0), count: plan.nodes.count))
        carried = Array(repeating: (0, .zero, .zero), count: plan.nodes.count)
    }

    /// Batches, busy and backpressure time of the attempts before the running one, by node:
    /// a job's figures cover its whole run, like its records in and out.
    private var carried: [(batches: Int, busy: Duration, emitting: Duration)]

    /// The attempt whose instances are running now. The previous attempt's instances have
    /// ended, so its meters hold their final readings.
    func begin(_ attempt: Attempt) {
        if let previous = self.attempt {
            for (vertex, meters) in previous.meters.enumerated() {
                let head = plan.vertices[vertex].nodes[0]
                for meter in meters {
                    let reading = meter.current
                    carried[head].batches += reading.batches
                    carried[head].busy += reading.busy
                    carried[head].emitting += reading.emitting
                }
            }
        }
        self.attempt = attempt
    }

    /// Samples every interval until the task is cancelled (the attempt ends). On the real
    /// clock, not the job's: metrics measure the process, and a test's manual clock must not
    /// find the sampler among the sleepers it steps.
    func runPeriodically() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            let metrics = await sample(final: nil)
            if health.checksAnything { await check(metrics) }
        }
    }

    /// Checks `metrics` against the `health` thresholds; a check that starts crossing writes a
    /// `HEALTH_WARNING` event and acts.
    private func check(_ metrics: JobMetrics) async {
        let now = ContinuousClock.now
        var findings: [(check: String, reason: String)] = []
        if let limit = health.maxMemoryPercent {
            let total = Double(ProcessInfo.processInfo.physicalMemory)
            let percent = total > 0 ? Double(metrics.process.residentBytes) / total * 100 : 0
            if percent > limit {
                findings.append(("memory", String(format: "memory %.1f %% of the machine's %.1f GB, over max_memory_percent %g", percent, total / 1e9, limit)))
            }
        }
        if let limit = health.minDiskFreeMB {
            for (place, free) in [("work_dir", metrics.process.workDirFreeBytes), ("checkpoint_dir", metrics.process.checkpointDirFreeBytes)] {
                guard let free, Double(free) / 1_048_576 < limit else { continue }
                findings.append(("disk \(place)", String(format: "%.0f MB free where %@ is, under min_disk_free_mb %g", Double(free) / 1_048_576, place, limit)))
            }
        }
        if let limit = health.maxCPUPercent, metrics.process.cpuPercent > limit {
            findings.append(("cpu", String(format: "cpu %.0f %%, over max_cpu_percent %g", metrics.process.cpuPercent, limit)))
        }
        if let limit = health.maxQueueFillSeconds {
            for (id, op) in metrics.operators.enumerated() {
                guard op.queueCapacity > 0, op.queuedBatches >= op.queueCapacity else {
                    fullSince[id] = nil
                    continue
                }
                let since = fullSince[id] ?? now
                fullSince[id] = since
                if (now - since).seconds >= limit {
                    findings.append(("queue \(op.name)", String(format: "the input queue of '%@' has been full for %.1f s, over max_queue_fill_seconds %g", op.name, (now - since).seconds, limit)))
                }
            }
        }
        let current = Set(findings.map(\.check))
        let new = findings.filter { !crossed.contains($0.check) }
        crossed = current
        for finding in new {
            let action: String
            switch health.action {
            case .warn: action = "warning only (health.action warn)"
            case .checkpoint: action = attempt?.coordinator == nil ? "no checkpoint: the job takes none" : "taking a checkpoint now"
            case .fail: action = "failing the job"
            }
            events.emit(JobEvent(kind: .healthWarning, jobID: jobID, message: "\(finding.reason); \(action)"))
            switch health.action {
            case .warn:
                break
            case .checkpoint:
                if let coordinator = attempt?.coordinator {
                    // Not awaited: the sampler keeps its pace while the checkpoint is written.
                    Task { _ = await coordinator.checkpointNow(manual: false) }
                }
            case .fail:
                let failure = OperatorFailure(
                    operatorName: "health", instance: 0, recordIndex: nil, record: nil, error: HealthCheckFailure(reason: finding.reason))
                _ = await supervisor.record(failure)
                await supervisor.escalate(failure, reason: "a health check failed under health.action fail", fatal: true)
                control.stop(.failed)
                return
            }
        }
    }

    /// Takes a sample: of the running attempt, or with `final` (records in and out per node
    /// over every attempt) the job's last one. Returns it.
    @discardableResult
    func sample(final: [(recordsIn: Int, recordsOut: Int)]?) async -> JobMetrics {
        let now = ContinuousClock.now
        let cpu = ProcessStats.cpuTime()
        var records = final ?? attempt?.base ?? Array(repeating: (0, 0), count: plan.nodes.count)
        var batches = carried.map(\.batches)
        var busy = carried.map(\.busy)
        var emitting = carried.map(\.emitting)
        var queued = Array(repeating: 0, count: plan.nodes.count)
        var capacity = Array(repeating: 0, count: plan.nodes.count)
        if let attempt {
            for (vertex, meters) in attempt.meters.enumerated() {
                let head = plan.vertices[vertex].nodes[0]
                for (instance, meter) in meters.enumerated() {
                    let reading = meter.current
                    if final == nil {
                        for (node, counts) in reading.records {
                            records[node].recordsIn += counts.recordsIn
                            records[node].recordsOut += counts.recordsOut
                        }
                    }
                    // Batches and times belong to the instance: shown on its vertex's head.
                    batches[head] += reading.batches
                    busy[head] += reading.busy
                    emitting[head] += reading.emitting
                    if let fill = attempt.inboxes[vertex][instance]?.fill {
                        queued[head] += fill.queued
                        capacity[head] += fill.capacity
                    }
                }
            }
        }
        let seconds = max((now - previous.at).seconds, 1e-9)
        let operators = plan.nodes.enumerated().map { id, node in
            JobMetrics.Operator(
                name: node.name, parallelism: node.parallelism, recordsIn: records[id].recordsIn, recordsOut: records[id].recordsOut,
                recordsInPerSecond: Double(max(0, records[id].recordsIn - previous.records[id].recordsIn)) / seconds,
                recordsOutPerSecond: Double(max(0, records[id].recordsOut - previous.records[id].recordsOut)) / seconds,
                batches: batches[id], busySeconds: busy[id].seconds, backpressureSeconds: emitting[id].seconds, queuedBatches: queued[id],
                queueCapacity: capacity[id])
        }
        let supervision = await supervisor.snapshot
        let completed = (attempt?.checkpointsBefore.completed ?? 0) + (await attempt?.coordinator?.completed.count ?? 0)
        let failed = (attempt?.checkpointsBefore.failed ?? 0) + (await attempt?.coordinator?.failedCount ?? 0)
        let process = JobMetrics.Process(
            cpuPercent: (cpu - previous.cpu).seconds / seconds * 100, residentBytes: ProcessStats.residentBytes(),
            openFiles: ProcessStats.openFiles(), workDirFreeBytes: ProcessStats.freeBytes(at: workDirectory),
            checkpointDirFreeBytes: checkpointDirectory.flatMap { ProcessStats.freeBytes(at: $0) })
        let metrics = JobMetrics(
            jobID: jobID, time: Date(), elapsedSeconds: (now - started).seconds, operators: operators, checkpointsCompleted: completed,
            checkpointsFailed: failed, restarts: supervision.restarts.count, recoveries: supervision.recoveries.count,
            deadLetters: supervision.deadLetters.count, process: process)
        previous = (now, cpu, records)
        last = metrics
        publish(metrics, events: final == nil)
        return metrics
    }

    /// Writes and publishes `metrics`; with `events`, also as events (the last sample, taken
    /// as the job ends, is in its result instead).
    private func publish(_ metrics: JobMetrics, events emitting: Bool) {
        if let line = try? JobMetrics.encoder().encode(metrics) { try? file?.write(contentsOf: line + Data("\n".utf8)) }
        hub.publish(metrics)
        guard emitting else { return }
        let megabytes = Double(metrics.process.residentBytes) / 1_048_576
        let free = metrics.process.workDirFreeBytes.map { String(format: ", %.1f GB free in work_dir", Double($0) / 1e9) } ?? ""
        events.emit(
            JobEvent(
                kind: .resourceUsage, jobID: jobID,
                message: String(format: "cpu %.0f %%, memory %.1f MB, %d open files", metrics.process.cpuPercent, megabytes, metrics.process.openFiles) + free))
        let rates = metrics.operators.map { op in
            let rate = op.recordsInPerSecond > 0 || op.recordsIn > 0 ? op.recordsInPerSecond : op.recordsOutPerSecond
            return String(format: "%@ %.0f/s", op.name, rate) + (op.queueCapacity > 0 ? String(format: " (queue %.0f %%)", op.queueFill * 100) : "")
        }
        events.emit(JobEvent(kind: .performanceMetric, jobID: jobID, message: rates.joined(separator: ", ")))
    }

    /// The job ended: no more samples.
    func close() {
        try? file?.close()
        hub.finishSubscribers()
    }
}

/// Delivers metrics samples to every subscriber of ``LocalEnvironment/metrics()``.
typealias MetricsHub = Broadcast<JobMetrics>
