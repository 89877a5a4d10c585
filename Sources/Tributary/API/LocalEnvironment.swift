import Foundation
import Synchronization

/// Builds a pipeline and runs it in this process.
///
/// ```swift
/// let env = try LocalEnvironment("word_count", config: ["fault_tolerance": ["strategy": "restart"]])
/// let counts = CollectSink<(String, Int)>()
/// env.fromSource(FileSource(path: "input.txt"))
///     .flatMap { $0.split(separator: " ").map(String.init) }
///     .keyBy { $0 }
///     .mapWithState(initial: 0) { (count: inout Int, word: String) in count += 1; return (word, count) }
///     .sink(counts)
/// let result = try await env.submit()
/// ```
///
/// Building only records the graph; ``submit()`` validates it, compiles it into actors and
/// channels, and runs it. An environment runs one job at a time.
public final class LocalEnvironment: Sendable {
    /// The job's name, as given.
    public let name: String
    /// The validated configuration.
    public let configuration: EnvironmentConfiguration
    /// The job's id: `job_id` from the configuration, or a new
    /// `YYYYMMDD_HHMMSS_<name>_<6 hex digits>`.
    public let jobID: String

    let graph = Mutex(GraphState())
    /// The running job's control, and whether a ``submit()`` of this environment returned a
    /// completed job (it runs once).
    private let runState = Mutex<(running: JobControl?, completed: Bool)>((nil, false))
    /// Replaces standard error for `print_warnings`; set by tests.
    let warningOutput = Mutex<(@Sendable (String) -> Void)?>(nil)
    /// Receives the runtime's internal events; set by tests.
    let observer = Mutex<(@Sendable (RuntimeEvent) -> Void)?>(nil)
    private let classifier = Mutex<(@Sendable (FailureInfo) -> FailoverDecision)?>(nil)
    private let makeClock: @Sendable () -> JobClock
    /// The handler of a registered custom strategy, made from its options.
    let faultHandler: (any FaultHandler)?
    let hub = EventHub()
    let metricsHub = MetricsHub()
    private let coordinatorSlot = CoordinatorSlot()

    /// Creates an environment from a configuration dictionary (API.md section 4).
    /// - Parameters:
    ///   - name: the job's name, in its default id, events and summary.
    ///   - config: the configuration (every key in ``EnvironmentConfiguration``).
    ///   - clock: the clock restart delays and failure windows are measured on; tests pass a
    ///     manual clock (`TributaryTesting.ManualClock`) to control time.
    /// - Throws: ``ConfigurationError`` naming the key path, the value given and what is allowed.
    public convenience init<C: Clock>(_ name: String, config: [String: ConfigValue] = [:], clock: C) throws where C.Duration == Duration {
        try self.init(name, configuration: try EnvironmentConfiguration(config), clock: clock)
    }

    /// Creates an environment from a configuration dictionary (API.md section 4), on the
    /// continuous clock.
    /// - Throws: ``ConfigurationError`` naming the key path, the value given and what is allowed.
    public convenience init(_ name: String, config: [String: ConfigValue] = [:]) throws {
        try self.init(name, configuration: try EnvironmentConfiguration(config), clock: ContinuousClock())
    }

    /// Creates an environment from a typed configuration, on the continuous clock.
    /// An environment configured by `config`, then by the `TRIBUTARY_…` variables of
    /// `environment`, then by `arguments`, each overriding what came before:
    ///
    /// ```swift
    /// // swift run orders --job_id nightly --fault_tolerance.checkpoint_interval=5
    /// let env = try LocalEnvironment("orders", config: defaults, arguments: Array(CommandLine.arguments.dropFirst()))
    /// ```
    ///
    /// - `arguments`: `--key=value` or `--key value`, the key a dotted path
    ///   (`--fault_tolerance.checkpoint_interval=5`, `--job_id nightly`; `-` in a key reads as
    ///   `_`; a key with no value is `true`). Pass only the arguments meant for the
    ///   configuration: any other is an error.
    /// - `environment`: `TRIBUTARY_<KEY>`, with `__` between an object and its key
    ///   (`TRIBUTARY_FAULT_TOLERANCE__CHECKPOINT_INTERVAL=5`); other variables are ignored.
    ///
    /// A key set this way is set as if written in `config` (setting a key of `fault_tolerance`
    /// creates that object, with its table defaults, if `config` has none).
    /// - Throws: ``ConfigurationError`` as for `config`, with ``ConfigurationError/origin``
    ///   naming the argument or variable that set the key (an unknown
    ///   `--fault_tolerance.checkpoint_intervl` suggests `checkpoint_interval`).
    public convenience init(
        _ name: String, config: [String: ConfigValue] = [:], arguments: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        try self.init(name, configuration: try EnvironmentConfiguration(config, environment: environment, arguments: arguments))
    }

    public convenience init(_ name: String, configuration: EnvironmentConfiguration) throws {
        try self.init(name, configuration: configuration, clock: ContinuousClock())
    }

    /// Creates an environment from a typed configuration and a clock.
    public init<C: Clock>(_ name: String, configuration: EnvironmentConfiguration, clock: C) throws where C.Duration == Duration {
        self.name = name
        self.configuration = configuration
        self.jobID = configuration.jobID ?? Self.newJobID(name: name)
        self.makeClock = { JobClock(clock) }
        if let error = configuration.faultTolerance.restartStrategy.configurationError(at: "fault_tolerance.restart_strategy") {
            throw error
        }
        // A configuration built in code gets the dictionary's checks too (a zero periodic
        // interval, `disabled` with `strategy: "checkpoint"`, a negative `max_days`, …): the
        // dictionary it stands for must parse.
        _ = try EnvironmentConfiguration(configuration.dictionaryRepresentation)
        self.faultHandler = try FaultToleranceRegistry.makeHandler(
            configuration.faultTolerance.strategy, options: configuration.faultTolerance.customOptions)
    }

    /// Classifies failures at run time (dynamic failover): called for every failure, before the
    /// operator's policy, with the error, the operator, its attempt count and the job's failure
    /// history. Return `.normal` to apply the policy. Replaces an earlier classifier.
    public func onFailure(_ classify: @escaping @Sendable (FailureInfo) -> FailoverDecision) {
        classifier.withLock { $0 = classify }
    }

    /// The job's events as they happen (the same ones written to `events.jsonl`). Subscribe
    /// before `submit()` to see the run from its start; the stream finishes when the run ends,
    /// after its last event (`JOB_COMPLETE`, `JOB_FAILED`, …), so `for await` over it ends with
    /// the job. Subscribe again for a later run of this environment.
    public func events() -> AsyncStream<JobEvent> {
        hub.subscribe()
    }

    /// The job's metrics as they are sampled, every `metrics_interval` and once more as the
    /// job ends (see ``JobMetrics``); the stream finishes when the run ends. Subscribe before
    /// `submit()`; with `metrics_interval: 0` it only finishes.
    public func metrics() -> AsyncStream<JobMetrics> {
        metricsHub.subscribe()
    }

    /// Calls `handler` with each of the job's events (the same ones written to
    /// `events.jsonl`), to route them to the application's own logging or monitoring.
    ///
    /// Handlers run one event at a time, in the order the events are written, on a queue of
    /// their own: a slow handler delays the handlers, never the job. `submit()` returns after
    /// every handler has had every event of the run, the final `JOB_COMPLETE` or `JOB_FAILED`
    /// included. Register before `submit()` to see the run from its start; handlers stay for
    /// later runs of this environment.
    public func onEvent(_ handler: @escaping @Sendable (JobEvent) -> Void) {
        hub.addHandler(handler)
    }

    static func newJobID(name: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd_HHmmss"
        let safeName = String(name.unicodeScalars.map { scalar -> Character in
            CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || scalar == "-" ? Character(scalar) : "_"
        }.prefix(40))
        let suffix = String(format: "%06x", UInt32.random(in: 0...0xFF_FFFF))
        return "\(formatter.string(from: date))_\(safeName.isEmpty ? "job" : safeName)_\(suffix)"
    }

    // MARK: Sources

    /// A stream of the records `source` reads.
    @inlinable
    public func fromSource<S: Source>(_ source: S) -> DataStream<S.Element> {
        let node = SourceNode(source: source) { chain, settings, isolation in
            try await runSourceLoop(source, chain: chain, settings: settings, isolation: isolation)
        }
        return DataStream(environment: self, nodeID: addNode(node))
    }

    /// A stream of the given elements, in order (a ``CollectionSource``).
    @inlinable
    public func fromCollection<Element: Sendable>(_ elements: [Element]) -> DataStream<Element> {
        fromSource(CollectionSource(elements))
    }

    // MARK: Running

    /// Runs the pipeline until every source is exhausted and every record has drained into the
    /// sinks, and returns what happened.
    ///
    /// An environment runs its job once: after a run that completed, `submit()` throws; after
    /// one that was cancelled, stopped or failed, it resumes the job (from its last checkpoint
    /// with `strategy: "checkpoint"`, from the start otherwise).
    ///
    /// Cancelling the task that awaits `submit()` is ``cancel()``, whenever it happens, also
    /// before the job started: `submit()` then returns a result with status `.cancelled` rather
    /// than throwing `CancellationError`, and committed output stays committed.
    ///
    /// - Returns: the ``JobResult``, with status `.completed`, `.cancelled` after ``cancel()`` or
    ///   a task cancellation, or `.stopped` after ``stop()``.
    /// - Throws: ``PipelineError`` before anything runs when the graph cannot run (no sink, an
    ///   unconsumed stream, a bad parallelism or name, a job already running in this
    ///   environment, a job this environment already completed, a `job_id` that already
    ///   completed); ``JobLockedError`` when another process
    ///   or environment runs the same `job_id`; ``JobFolderError`` when the job folder cannot be
    ///   created; ``JobFailedError`` when an operator's failure could not be recovered from, when
    ///   the final checkpoint failed, or when the checkpoint to resume from does not fit the
    ///   pipeline (its cause is then a ``CheckpointStateMismatchError``).
    public func submit() async throws -> JobResult {
        let control = JobControl()
        let refusal = runState.withLock { state -> PipelineError? in
            if state.running != nil {
                return PipelineError(code: .alreadyRunning, message: "job '\(jobID)' is already running in this environment; wait for submit() to return")
            }
            if state.completed {
                return PipelineError(
                    code: .jobAlreadyCompleted,
                    message: "job '\(jobID)' of this environment already completed; submit() runs an environment's job once (again only to resume it after a cancel, a stop or a failure): make a new LocalEnvironment to run the pipeline again")
            }
            state.running = control
            return nil
        }
        if let refusal { throw refusal }
        // However this run ends — also with an error before it started — its event and
        // metrics streams end with it.
        defer {
            hub.finishSubscribers()
            metricsHub.finishSubscribers()
        }
        let hooks = runHooks.withLock { $0 }
        for start in hooks.start { start() }
        let outcome: Result<JobResult, any Error>
        do {
            outcome = .success(try await run(control))
        } catch {
            outcome = .failure(error)
        }
        // The environment can run again before the end hooks run (a loop over `values` that
        // ends may submit at once).
        runState.withLock { state in
            state.running = nil
            if case .success(let result) = outcome, result.status == .completed { state.completed = true }
        }
        for end in hooks.end { end(outcome.map(\.status)) }
        return try outcome.get()
    }

    /// Called at the start and at the end of each run (``DataStream/values`` channels); the end
    /// hooks after the environment can run again.
    private let runHooks = Mutex<(start: [@Sendable () -> Void], end: [@Sendable (Result<JobResult.Status, any Error>) -> Void])>(([], []))

    func onRunStart(_ hook: @escaping @Sendable () -> Void) {
        runHooks.withLock { $0.start.append(hook) }
    }

    func onRunEnd(_ hook: @escaping @Sendable (Result<JobResult.Status, any Error>) -> Void) {
        runHooks.withLock { $0.end.append(hook) }
    }

    /// The ``DataStream/values`` channel of stream `nodeID`, made by `make` the first time.
    private let valuesChannels = Mutex<[Int: AnyObject]>([:])

    func valuesChannel<Element: Sendable>(of nodeID: Int, make: () -> ValuesChannel<Element>) -> ValuesChannel<Element> {
        // Under one lock, so two tasks reading `values` at once make one sink. (`make` takes the
        // graph's and the hooks' locks, never this one.)
        valuesChannels.withLock { channels in
            if let existing = channels[nodeID] as? ValuesChannel<Element> { return existing }
            let channel = make()
            channels[nodeID] = channel
            return channel
        }
    }

    private func run(_ control: JobControl) async throws -> JobResult {
        let (plan, policies) = try graph.withLock { graph throws(PipelineError) in
            (
                try PhysicalPlan.compile(
                    graph, cores: configuration.splitChains ? AvailableCores.count : 1, handlerFailsOver: faultHandler?.failsOver ?? false),
                graph.nodes.map(\.policy)
            )
        }
        for (index, rule) in configuration.faultInjections.enumerated() {
            let injectable = plan.nodes.filter { $0.blueprint.role == .transform || $0.blueprint.role == .sink }.map(\.name)
            guard injectable.contains(rule.operatorName) else {
                throw ConfigurationError(
                    code: .unknownValue, keyPath: "fault_injection[\(index)].operator", given: ConfigValue.string(rule.operatorName).description,
                    allowed: "an operator or sink of this job: " + injectable.joined(separator: ", "),
                    suggestion: NearestName.suggestion(for: rule.operatorName, among: injectable))
            }
            if let instance = rule.instance, let node = plan.nodes.first(where: { $0.name == rule.operatorName }), !(0..<node.parallelism).contains(instance) {
                throw ConfigurationError(
                    code: .outOfRange, keyPath: "fault_injection[\(index)].instance", given: String(instance),
                    allowed: "an instance of '\(node.name)', which has parallelism \(node.parallelism): 0...\(node.parallelism - 1)")
            }
        }
        let locks = try takeOwnership()
        defer { withExtendedLifetime(locks) {} }
        let events = try EventLog(
            jobID: jobID, workDirectory: configuration.workDirectory, hub: hub,
            warningOutput: configuration.printWarnings ? (warningOutput.withLock { $0 } ?? EventLog.standardError) : nil)
        let run = JobRun(
            jobID: jobID, jobName: name, plan: plan, policies: policies, configuration: configuration, control: control,
            clock: makeClock(), classifier: classifier.withLock { $0 }, faultHandler: faultHandler, events: events,
            observer: observer.withLock { $0 }, coordinatorSlot: coordinatorSlot,
            faultInjection: configuration.faultInjections.isEmpty ? nil : FaultInjectionState(configuration.faultInjections), metricsHub: metricsHub)
        switch await run.execute() {
        case .completed(let result):
            return result
        case .failed(let result, let cause, let history):
            throw JobFailedError(result: result, cause: cause, history: history)
        }
    }

    /// Takes a checkpoint of the running job now and returns when it is on disk and its output
    /// committed. A manual checkpoint is never removed by `retained_checkpoints` (like Flink's
    /// savepoints). When a periodic checkpoint is already collecting, that one is made manual
    /// and returned.
    /// - Throws: ``CheckpointError`` when no job with `strategy: "checkpoint"` is running, or
    ///   when this checkpoint failed or was abandoned (the job stopped or recovered meanwhile);
    ///   the message says which.
    @discardableResult
    public func triggerCheckpoint() async throws -> CheckpointRecord {
        guard let coordinator = coordinatorSlot.coordinator else {
            throw CheckpointError(message: "no job with fault_tolerance.strategy \"checkpoint\" is running in environment '\(name)'")
        }
        switch await coordinator.checkpointNow(manual: true) {
        case .completed(let record):
            return record
        case .failed(let id, let reason):
            throw CheckpointError(message: "checkpoint \(id) failed: \(reason)")
        case .abandoned(let id, let reason):
            throw CheckpointError(message: id == 0 ? "no checkpoint could start: \(reason)" : "checkpoint \(id) was abandoned: \(reason)")
        }
    }

    /// Stops the running job and discards its uncommitted work: sources stop reading, in-flight
    /// records are dropped, and ``submit()`` returns a result with status `.cancelled`. Output
    /// committed by completed checkpoints stays; submitting the job again with its `job_id`
    /// resumes from the last one. Safe at any moment, also while a checkpoint is pending (that
    /// checkpoint is abandoned, never completed without a source's position). Does nothing
    /// when no job runs.
    public func cancel() {
        runState.withLock { $0.running }?.stop(.cancelled)
    }

    /// Stops the running job with a final checkpoint: every source stops reading where it is,
    /// everything already read is processed, a last checkpoint records it and the sinks commit
    /// it, and ``submit()`` returns a result with status `.stopped`. Submitting the job again
    /// with the same `job_id` (``JobResult/jobID``) resumes exactly after the last record read.
    ///
    /// Safe at any moment, also while a checkpoint is pending. If the final checkpoint fails,
    /// ``submit()`` throws ``JobFailedError`` rather than report a stop whose output was not
    /// committed. Without `strategy: "checkpoint"` the job stops the same way but cannot be
    /// resumed where it stopped. Does nothing when no job runs.
    public func stop() {
        runState.withLock { $0.running }?.requestStop()
    }

    /// Locks the job's folder (and checkpoints) for this process, and refuses a `job_id` whose
    /// job already completed unless `restart_completed` asks to start it over.
    private func takeOwnership() throws -> [JobLock] {
        let folder = URL(fileURLWithPath: configuration.workDirectory).appendingPathComponent(jobID)
        var locks = [try JobLock(folder: folder, jobID: jobID)]
        let ft = configuration.faultTolerance
        let storage = makeCheckpointStorage(ft, jobID: jobID)
        if ft.strategy == .checkpoint { locks.append(try storage.lock(jobID: jobID)) }
        // Only a job_id the user named means "resume that job"; an environment that made its
        // own id may run its pipeline again.
        if configuration.jobID != nil, let summary = try? JobFolder.summary(jobID: jobID, workDirectory: configuration.workDirectory),
            summary.status == JobResult.Status.completed.rawValue
        {
            guard configuration.restartCompleted else {
                throw PipelineError(
                    code: .jobAlreadyCompleted,
                    message: "job '\(jobID)' already completed (ended \(summary.endedAt ?? "earlier")), so there is nothing to resume; to run it again, use a new job_id, or set restart_completed: true to start it over from nothing (its checkpoints are removed and its sinks' output replaced)")
            }
            for id in storage.list() { storage.remove(id) }
        }
        return locks
    }

    // MARK: Graph building

    @usableFromInline
    func addNode(_ blueprint: some NodeBlueprint) -> Int {
        graph.withLock { graph in
            graph.nodes.append(GraphState.Node(blueprint: blueprint))
            return graph.nodes.count - 1
        }
    }

    @usableFromInline
    func recordProblem(_ problem: PipelineError) {
        graph.withLock { $0.problems.append(problem) }
    }

    /// A restart strategy out of range fails `submit()` with a message naming the operator.
    func recordPolicyProblem(_ policy: SupervisionPolicy, of id: Int) {
        guard let strategy = policy.restartStrategy, let problem = strategy.problem else { return }
        let shown = policy.failsOver ? "failover" : "restart"
        recordProblem(
            PipelineError(
                code: .invalidArgument,
                message: "supervised(.\(shown)(...)) of '\(nodeName(id))': \(problem.parameter) is \(problem.given), but it must be \(problem.allowed)"))
    }

    func updateNode(_ id: Int, _ update: (inout GraphState.Node) -> Void) {
        graph.withLock { update(&$0.nodes[id]) }
    }

    @usableFromInline
    func registerSideOutputs(producer: Int, main: Int, tags: [String: Any.Type]) {
        graph.withLock { $0.sideOutputs[main] = .init(producer: producer, tags: tags.mapValues { ObjectIdentifier($0) }) }
    }

    /// The operator behind the main stream `main` if it has side output `tag` holding `type`.
    func sideOutputProducer(of main: Int, tag: String, type: Any.Type) -> Int? {
        graph.withLock { graph in
            guard let outputs = graph.sideOutputs[main], outputs.tags[tag] == ObjectIdentifier(type) else { return nil }
            return outputs.producer
        }
    }

    func addSideOutputReader(_ reader: Int, of main: Int) {
        graph.withLock { graph in
            graph.sideOutputs[main]?.readers.append(reader)
            // Same parallelism as the operator: records reach it over a forward edge.
            if let producer = graph.sideOutputs[main]?.producer { graph.nodes[reader].parallelism = graph.nodes[producer].parallelism }
        }
    }

    /// Applies `update` to the operator that produced the stream `id` (see
    /// ``GraphState/operatorNode(_:)``).
    func updateOperator(of id: Int, _ update: (inout GraphState.Node) -> Void) {
        graph.withLock { update(&$0.nodes[$0.operatorNode(id)]) }
    }

    /// Runs the operator that produced the stream `id` as `count` instances, and the stages
    /// that hand its outputs on as many, so each is reached over a forward edge.
    func setParallelism(_ count: Int, ofOperatorOf id: Int) {
        graph.withLock { graph in
            let stages = graph.sideOutputs[id].map { [id] + $0.readers } ?? []
            for node in [graph.operatorNode(id)] + stages { graph.nodes[node].parallelism = count }
        }
    }

    func nodeName(_ id: Int) -> String {
        graph.withLock { $0.name(of: $0.operatorNode(id)) }
    }
}

/// A checkpoint could not be taken.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
