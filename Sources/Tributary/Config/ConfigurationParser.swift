/// Parses the dictionary form of a configuration into ``EnvironmentConfiguration``.
///
/// Every key, its type and default (durations are seconds, as numbers):
///
/// | key | type | default |
/// |---|---|---|
/// | `job_id` | string of letters, digits, `_`, `-`, `.` | a new id |
/// | `work_dir` | non-empty string | `.tributary` |
/// | `batch_size` | integer 1...65536 | 1024 |
/// | `batch_linger` | seconds ≥ 0 | 0.005 |
/// | `channel_capacity` | integer 1...1024 | 4 |
/// | `print_warnings` | boolean | true |
/// | `fault_tolerance.strategy` | `checkpoint`, `restart`, `none` | `restart` |
/// | `fault_tolerance.checkpoint_interval` | seconds > 0 (≥ 0 when `checkpoint_mode` is `manual`) | 60 |
/// | `fault_tolerance.checkpoint_mode` | `periodic`, `manual`, `disabled` (see ``CheckpointMode``) | `periodic` |
/// | `fault_tolerance.checkpoint_every_records` | integer ≥ 1, with `strategy: checkpoint` in `periodic` mode | none |
/// | `fault_tolerance.verify_writes` | boolean | false |
/// | `fault_tolerance.max_recovery_attempts` | integer ≥ 0 | 3 |
/// | `fault_tolerance.checkpoint_dir` | non-empty string | `.checkpoints` |
/// | `fault_tolerance.retained_checkpoints` | integer ≥ 1 | 3 |
/// | `fault_tolerance.checkpoint_timeout` | seconds > 0 | 600 |
/// | `fault_tolerance.restart_strategy` | `fixed`, `exponential`, `failure_rate` | `fixed` |
/// | `fault_tolerance.delay` (fixed, failure_rate) | seconds ≥ 0 | 5.0 |
/// | `fault_tolerance.max_attempts` (fixed) | integer ≥ 0 | 3 |
/// | `fault_tolerance.initial_delay` (exponential) | seconds ≥ 0 | 1.0 |
/// | `fault_tolerance.max_delay` (exponential) | seconds ≥ initial_delay | 60.0 |
/// | `fault_tolerance.multiplier` (exponential) | number ≥ 1 | 2.0 |
/// | `fault_tolerance.max_attempts` (exponential) | integer ≥ 0 | 5 |
/// | `fault_tolerance.jitter` (exponential) | number 0...1 | 0 |
/// | `fault_tolerance.reset_after` (exponential) | seconds > 0 | max_delay × 2 |
/// | `fault_tolerance.max_failures_per_interval` (failure_rate) | integer ≥ 0 | 3 |
/// | `fault_tolerance.interval_seconds` (failure_rate) | seconds > 0 | 60.0 |
/// | `fault_tolerance.seed` | integer ≥ 0 | random |
/// | `fault_tolerance.operator_timeout` | seconds > 0 | none |
/// | `fault_tolerance.allow_non_restored_state` | boolean | false |
/// | `restart_completed` | boolean | false |
/// | `split_chains` | boolean | true |
/// | `metrics_interval` | seconds ≥ 0 (0: no metrics) | 5 |
/// | `health.max_memory_percent` | number 0...100 (exclusive of 0) | none |
/// | `health.min_disk_free_mb` | number ≥ 0 | none |
/// | `health.max_queue_fill_seconds` | seconds > 0 | none |
/// | `health.max_cpu_percent` | number > 0 | none |
/// | `health.action` | `warn`, `checkpoint`, `fail` | `warn` |
/// | `retention.policy` | `keep_all`, `keep_failed_only`, `cleanup_all` (see ``RetentionConfiguration``) | `keep_all` |
/// | `retention.max_days` | number of days > 0 | none |
/// | `retention.cleanup_on_success` | boolean | false |
///
/// Every duration is at most 1e9 seconds (about 31 years); where it must be greater than 0 it
/// must also be at least 1e-18 (an attosecond, `Duration`'s resolution). NaN and infinities are
/// rejected.
///
/// With no `fault_tolerance` key at all the job uses `restart` with `fixed`, delay 0.1 s and 3
/// attempts.
enum ConfigurationParser {
    static let topLevelKeys = [
        "job_id", "work_dir", "batch_size", "batch_linger", "channel_capacity", "fault_tolerance", "fault_injection", "restart_completed",
        "split_chains", "retention", "metrics_interval", "health", "print_warnings",
    ]
    static let healthKeys = ["max_memory_percent", "min_disk_free_mb", "max_queue_fill_seconds", "max_cpu_percent", "action"]
    static let retentionKeys = ["policy", "max_days", "cleanup_on_success"]
    static let faultInjectionKeys = ["operator", "inject", "duration", "every_records", "at_records", "probability", "seed", "times", "instance"]
    static let faultToleranceKeys = [
        "strategy", "checkpoint_interval", "max_recovery_attempts", "checkpoint_dir", "retained_checkpoints",
        "checkpoint_timeout", "restart_strategy", "seed", "operator_timeout", "allow_non_restored_state", "checkpoint_mode",
        "checkpoint_every_records", "verify_writes",
    ]
    /// The restart strategies and the keys each of them takes.
    static let restartStrategyKeys: [(name: String, keys: [String])] = [
        ("fixed", ["delay", "max_attempts"]),
        ("exponential", ["initial_delay", "max_delay", "multiplier", "max_attempts", "jitter", "reset_after"]),
        ("failure_rate", ["max_failures_per_interval", "interval_seconds", "delay"]),
    ]

    /// `texts`: the text of each key set by an environment variable or argument, by dotted
    /// path, so a key that takes a string reads it as written.
    static func parse(_ dictionary: [String: ConfigValue], texts: [String: String] = [:]) throws(ConfigurationError) -> EnvironmentConfiguration {
        let top = ConfigObject(dictionary, path: "", texts: texts)
        try top.rejectUnknownKeys(allowed: topLevelKeys)
        var configuration = EnvironmentConfiguration()
        if let jobID = try top.string("job_id") {
            let allowedCharacters = jobID.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)
            }
            guard !jobID.isEmpty, allowedCharacters, jobID != ".", jobID != ".." else {
                throw ConfigurationError(
                    code: .outOfRange, keyPath: "job_id", given: ConfigValue.string(jobID).description,
                    allowed: "a non-empty name of letters, digits, '_', '-' and '.' (it names a folder)")
            }
            configuration.jobID = jobID
        }
        if let workDirectory = try top.nonEmptyString("work_dir") { configuration.workDirectory = workDirectory }
        if let batchSize = try top.int("batch_size", in: 1...65536) { configuration.batchSize = batchSize }
        if let linger = try top.seconds("batch_linger", minimum: 0, inclusive: true) { configuration.batchLinger = linger }
        if let capacity = try top.int("channel_capacity", in: 1...1024) { configuration.channelCapacity = capacity }
        if let restart = try top.bool("restart_completed") { configuration.restartCompleted = restart }
        if let split = try top.bool("split_chains") { configuration.splitChains = split }
        if let print = try top.bool("print_warnings") { configuration.printWarnings = print }
        if let interval = try top.seconds("metrics_interval", minimum: 0, inclusive: true) { configuration.metricsInterval = interval }
        if let health = try top.object("health") {
            configuration.health = try parseHealth(health)
            guard configuration.metricsInterval > .zero || !configuration.health.checksAnything else {
                throw ConfigurationError(
                    code: .conflictingKeys, keyPath: "health", given: nil,
                    allowed: "health checks run at each metrics sample, but metrics_interval is 0: set metrics_interval above 0 or remove health")
            }
        }
        if let retention = try top.object("retention") {
            configuration.retention = try parseRetention(retention)
        }
        if let faultTolerance = try top.object("fault_tolerance") {
            configuration.faultTolerance = try parseFaultTolerance(faultTolerance)
        }
        switch dictionary["fault_injection"] {
        case nil:
            break
        case .object(let fields)?:
            configuration.faultInjections = [try parseFaultInjection(ConfigObject(fields, path: "fault_injection", texts: texts))]
        case .array(let rules)?:
            configuration.faultInjections = try rules.enumerated().map { (index, rule) throws(ConfigurationError) -> FaultInjection in
                guard case .object(let fields) = rule else {
                    throw ConfigurationError(code: .wrongType, keyPath: "fault_injection[\(index)]", given: "\(rule) (\(rule.typeDescription))", allowed: "an object with operator, inject and one of every_records, at_records, probability")
                }
                return try parseFaultInjection(ConfigObject(fields, path: "fault_injection[\(index)]"))
            }
        case let other?:
            throw ConfigurationError(code: .wrongType, keyPath: "fault_injection", given: "\(other) (\(other.typeDescription))", allowed: "an object or an array of objects")
        }
        return configuration
    }

    static func parseFaultTolerance(_ object: ConfigObject) throws(ConfigurationError) -> FaultToleranceConfiguration {
        var result = FaultToleranceConfiguration()
        var isCustom = false
        if let name = try object.string("strategy") {
            let known = FaultToleranceStrategy.builtIn.map(\.name) + FaultToleranceRegistry.registeredNames
            isCustom = FaultToleranceRegistry.factory(named: name) != nil && !FaultToleranceStrategy.builtIn.map(\.name).contains(name)
            guard known.contains(name) else {
                throw ConfigurationError(
                    code: .unknownValue, keyPath: object.path("strategy"), given: ConfigValue.string(name).description,
                    allowed: known.map { "\"\($0)\"" }.joined(separator: ", "),
                    suggestion: NearestName.suggestion(for: name, among: known))
            }
            result.strategy = FaultToleranceStrategy(name: name)
        }

        let restartName = try object.string("restart_strategy") ?? "fixed"
        guard let selected = restartStrategyKeys.first(where: { $0.name == restartName }) else {
            let names = restartStrategyKeys.map(\.name)
            throw ConfigurationError(
                code: .unknownValue, keyPath: object.path("restart_strategy"),
                given: ConfigValue.string(restartName).description,
                allowed: names.map { "\"\($0)\"" }.joined(separator: ", "),
                suggestion: NearestName.suggestion(for: restartName, among: names))
        }
        let everyStrategyKey = Set(restartStrategyKeys.flatMap(\.keys))
        let builtInKeys = faultToleranceKeys + everyStrategyKey.sorted()
        if isCustom {
            // A registered strategy's own keys go to its factory.
            for (key, value) in object.fields where !builtInKeys.contains(key) { result.customOptions[key] = value }
        } else {
            try object.rejectUnknownKeys(allowed: builtInKeys)
        }
        for key in everyStrategyKey.sorted() where object.has(key) && !selected.keys.contains(key) && !isCustom {
            let owners = restartStrategyKeys.filter { $0.keys.contains(key) }.map { "\"\($0.name)\"" }
            throw ConfigurationError(
                code: .conflictingKeys, keyPath: object.path(key), given: object[key]?.description,
                allowed: "'\(key)' applies to restart_strategy \(owners.joined(separator: " or ")), but restart_strategy is \"\(restartName)\"; its keys are \(selected.keys.joined(separator: ", "))")
        }

        try parseCheckpointTriggers(object, into: &result)
        if let attempts = try object.int("max_recovery_attempts", in: 0...Int.max) { result.maxRecoveryAttempts = attempts }
        if let directory = try object.nonEmptyString("checkpoint_dir") { result.checkpointDirectory = directory }
        if let retained = try object.int("retained_checkpoints", in: 1...Int.max) { result.retainedCheckpoints = retained }
        if let timeout = try object.seconds("checkpoint_timeout", minimum: 0, inclusive: false) {
            result.checkpointTimeout = timeout
        }
        if let seed = try object.int("seed", in: 0...Int.max) { result.seed = UInt64(seed) }
        if let allow = try object.bool("allow_non_restored_state") { result.allowNonRestoredState = allow }
        if let timeout = try object.seconds("operator_timeout", minimum: 0, inclusive: false) {
            result.operatorTimeout = timeout
        }

        switch restartName {
        case "exponential":
            let initialDelay = try object.seconds("initial_delay", minimum: 0, inclusive: true) ?? .seconds(1)
            let maxDelay = try object.seconds("max_delay", minimum: 0, inclusive: true) ?? .seconds(60)
            guard maxDelay >= initialDelay else {
                throw ConfigurationError(
                    code: .outOfRange, keyPath: object.path("max_delay"), given: object["max_delay"]?.description ?? "60.0 (default)",
                    allowed: "a number of seconds at least initial_delay (\(initialDelay.seconds))")
            }
            let multiplier = try object.number("multiplier", minimum: 1, maximum: nil) ?? 2
            let attempts = try object.int("max_attempts", in: 0...Int.max) ?? 5
            let jitter = try object.number("jitter", minimum: 0, maximum: 1) ?? 0
            let resetAfter = try object.seconds("reset_after", minimum: 0, inclusive: false)
            result.restartStrategy = .exponential(
                initialDelay: initialDelay, maxDelay: maxDelay, multiplier: multiplier, maxAttempts: attempts,
                jitter: jitter, resetAfter: resetAfter)
        case "failure_rate":
            result.restartStrategy = .failureRate(
                maxFailures: try object.int("max_failures_per_interval", in: 0...Int.max) ?? 3,
                interval: try object.seconds("interval_seconds", minimum: 0, inclusive: false) ?? .seconds(60),
                delay: try object.seconds("delay", minimum: 0, inclusive: true) ?? .seconds(5))
        default:
            result.restartStrategy = .fixed(
                delay: try object.seconds("delay", minimum: 0, inclusive: true) ?? .seconds(5),
                maxAttempts: try object.int("max_attempts", in: 0...Int.max) ?? 3)
        }
        return result
    }
}

extension ConfigurationParser {
    /// `health`: the thresholds and `action`.
    static func parseHealth(_ object: ConfigObject) throws(ConfigurationError) -> HealthConfiguration {
        try object.rejectUnknownKeys(allowed: healthKeys)
        var result = HealthConfiguration()
        func positive(_ key: String, maximum: Double? = nil) throws(ConfigurationError) -> Double? {
            guard let value = try object.number(key, minimum: 0, maximum: maximum ?? 1e12) else { return nil }
            guard value > 0 else {
                throw ConfigurationError(code: .outOfRange, keyPath: object.path(key), given: object[key]?.description, allowed: "a number greater than 0")
            }
            return value
        }
        result.maxMemoryPercent = try positive("max_memory_percent", maximum: 100)
        result.minDiskFreeMB = try object.number("min_disk_free_mb", minimum: 0, maximum: 1e12)
        result.maxQueueFillSeconds = try positive("max_queue_fill_seconds", maximum: 1e9)
        result.maxCPUPercent = try positive("max_cpu_percent")
        if let action = try object.choice("action", of: HealthConfiguration.Action.self) { result.action = action }
        return result
    }

    /// `retention`: `policy`, `max_days`, `cleanup_on_success`.
    static func parseRetention(_ object: ConfigObject) throws(ConfigurationError) -> RetentionConfiguration {
        try object.rejectUnknownKeys(allowed: retentionKeys)
        var result = RetentionConfiguration()
        if let policy = try object.choice("policy", of: RetentionConfiguration.Policy.self) { result.policy = policy }
        if let days = try object.number("max_days", minimum: 0, maximum: 1e6) {
            guard days > 0 else {
                throw ConfigurationError(code: .outOfRange, keyPath: object.path("max_days"), given: object["max_days"]?.description, allowed: "a number of days greater than 0")
            }
            result.maxDays = days
        }
        if let cleanup = try object.bool("cleanup_on_success") { result.cleanupOnSuccess = cleanup }
        return result
    }

    /// `checkpoint_mode`, `checkpoint_interval`, `checkpoint_every_records`, `verify_writes`,
    /// and the combinations that contradict each other or the strategy.
    static func parseCheckpointTriggers(_ object: ConfigObject, into result: inout FaultToleranceConfiguration) throws(ConfigurationError) {
        if let mode = try object.choice("checkpoint_mode", of: CheckpointMode.self) { result.checkpointMode = mode }
        let manual = result.checkpointMode == .manual
        if let interval = try object.seconds("checkpoint_interval", minimum: 0, inclusive: manual) {
            result.checkpointInterval = interval
        }
        result.checkpointEveryRecords = try object.int("checkpoint_every_records", in: 1...Int.max)
        if let verify = try object.bool("verify_writes") { result.verifyWrites = verify }

        let checkpointing = result.strategy == .checkpoint
        if result.checkpointMode == .disabled, checkpointing {
            throw ConfigurationError(
                code: .conflictingKeys, keyPath: object.path("checkpoint_mode"), given: ConfigValue.string("disabled").description,
                allowed: "checkpoint_mode \"disabled\" contradicts strategy \"checkpoint\", which recovers from checkpoints: to run without them use strategy \"restart\" or \"none\"; to take them only when asked, checkpoint_mode \"manual\"")
        }
        if manual, !checkpointing {
            throw ConfigurationError(
                code: .conflictingKeys, keyPath: object.path("checkpoint_mode"), given: ConfigValue.string("manual").description,
                allowed: "checkpoint_mode \"manual\" takes checkpoints, which only strategy \"checkpoint\" does (strategy is \"\(result.strategy.name)\")")
        }
        if let every = result.checkpointEveryRecords {
            guard checkpointing else {
                throw ConfigurationError(
                    code: .conflictingKeys, keyPath: object.path("checkpoint_every_records"), given: "\(every)",
                    allowed: "checkpoint_every_records takes checkpoints, which only strategy \"checkpoint\" does (strategy is \"\(result.strategy.name)\")")
            }
            guard result.checkpointMode == .periodic else {
                throw ConfigurationError(
                    code: .conflictingKeys, keyPath: object.path("checkpoint_every_records"), given: "\(every)",
                    allowed: "checkpoint_every_records applies to checkpoint_mode \"periodic\", but checkpoint_mode is \"\(result.checkpointMode.rawValue)\"")
            }
        }
    }

    /// One `fault_injection` rule: `operator`, `inject`, `duration` (hang, slow), exactly one of
    /// `every_records` / `at_records` / `probability` (with optional `seed`), optional `times`
    /// and `instance`.
    static func parseFaultInjection(_ object: ConfigObject) throws(ConfigurationError) -> FaultInjection {
        try object.rejectUnknownKeys(allowed: faultInjectionKeys)
        guard let name = try object.nonEmptyString("operator") else {
            throw ConfigurationError(code: .wrongType, keyPath: object.path("operator"), given: nil, allowed: "the name of an operator (required)")
        }
        let kinds = FaultInjection.Kind.all.map(\.name)
        guard let kindName = try object.string("inject") else {
            throw ConfigurationError(code: .wrongType, keyPath: object.path("inject"), given: nil, allowed: kinds.map { "\"\($0)\"" }.joined(separator: ", ") + " (required)")
        }
        guard let kind = FaultInjection.Kind.all.first(where: { $0.name == kindName }) else {
            throw ConfigurationError(
                code: .unknownValue, keyPath: object.path("inject"), given: ConfigValue.string(kindName).description,
                allowed: kinds.map { "\"\($0)\"" }.joined(separator: ", "), suggestion: NearestName.suggestion(for: kindName, among: kinds))
        }
        let duration = try object.seconds("duration", minimum: 0, inclusive: false)
        let needsDuration = kind == .hang || kind == .slow
        if needsDuration, duration == nil {
            throw ConfigurationError(code: .wrongType, keyPath: object.path("duration"), given: nil, allowed: "a number of seconds greater than 0 (required for \"\(kind)\")")
        }
        if !needsDuration, duration != nil {
            throw ConfigurationError(code: .conflictingKeys, keyPath: object.path("duration"), given: object["duration"]?.description, allowed: "'duration' applies to \"hang\" and \"slow\" only")
        }
        let triggers = ["every_records", "at_records", "probability"].filter(object.has)
        guard triggers.count == 1 else {
            throw ConfigurationError(
                code: .conflictingKeys, keyPath: object.path(triggers.first ?? "every_records"), given: triggers.isEmpty ? nil : triggers.joined(separator: ", "),
                allowed: "exactly one of every_records, at_records, probability")
        }
        let trigger: FaultInjection.Trigger
        switch triggers[0] {
        case "every_records":
            trigger = .everyRecords(try object.int("every_records", in: 1...Int.max) ?? 1)
        case "at_records":
            guard case .array(let values)? = object["at_records"] else {
                throw ConfigurationError(code: .wrongType, keyPath: object.path("at_records"), given: object["at_records"]?.description, allowed: "an array of record positions (integers of at least 0)")
            }
            var positions: Set<Int> = []
            for (index, value) in values.enumerated() {
                guard case .int(let position) = value, position >= 0 else {
                    throw ConfigurationError(code: .outOfRange, keyPath: object.path("at_records[\(index)]"), given: value.description, allowed: "an integer of at least 0")
                }
                positions.insert(position)
            }
            trigger = .atRecords(positions)
        default:
            let probability = try object.number("probability", minimum: 0, maximum: 1) ?? 0
            trigger = .probability(probability, seed: UInt64(try object.int("seed", in: 0...Int.max) ?? 0))
        }
        if object.has("seed"), triggers[0] != "probability" {
            throw ConfigurationError(code: .conflictingKeys, keyPath: object.path("seed"), given: object["seed"]?.description, allowed: "'seed' applies to 'probability' only")
        }
        return FaultInjection(
            operatorName: name, kind: kind, trigger: trigger, duration: duration, times: try object.int("times", in: 1...Int.max),
            instance: try object.int("instance", in: 0...1023))
    }
}

/// A configuration object being read, with its key path for error messages.
struct ConfigObject {
    let fields: [String: ConfigValue]
    let prefix: String
    /// Texts of keys set from outside the code, by dotted path (``ConfigurationOverrides``).
    let texts: [String: String]

    init(_ fields: [String: ConfigValue], path prefix: String, texts: [String: String] = [:]) {
        self.fields = fields
        self.prefix = prefix
        self.texts = texts
    }

    subscript(key: String) -> ConfigValue? { fields[key] }
    func has(_ key: String) -> Bool { fields[key] != nil }
    func path(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix).\(key)" }

    func rejectUnknownKeys(allowed: [String]) throws(ConfigurationError) {
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw ConfigurationError(
                code: .unknownKey, keyPath: path(key), given: fields[key]?.description,
                allowed: "the keys \(allowed.joined(separator: ", "))",
                suggestion: NearestName.suggestion(for: key, among: allowed))
        }
    }

    private func wrongType(_ key: String, _ value: ConfigValue, expected: String) -> ConfigurationError {
        ConfigurationError(
            code: .wrongType, keyPath: path(key), given: "\(value) (\(value.typeDescription))", allowed: expected)
    }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = fields[key] else { return nil }
        if case .string(let string) = value { return string }
        // Set by an argument or a variable: `007` or `true` was meant as written.
        if let text = texts[path(key)] { return text }
        throw wrongType(key, value, expected: "a string")
    }

    /// One of the names of `Choice` (its raw values); another name throws, suggesting the
    /// nearest.
    func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, of type: Choice.Type) throws(ConfigurationError) -> Choice?
    where Choice.RawValue == String {
        guard let name = try string(key) else { return nil }
        if let value = Choice(rawValue: name) { return value }
        let names = Choice.allCases.map(\.rawValue)
        throw ConfigurationError(
            code: .unknownValue, keyPath: path(key), given: ConfigValue.string(name).description,
            allowed: names.map { "\"\($0)\"" }.joined(separator: ", "), suggestion: NearestName.suggestion(for: name, among: names))
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = fields[key] else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, value, expected: "true or false") }
        return flag
    }

    func nonEmptyString(_ key: String) throws(ConfigurationError) -> String? {
        guard let string = try string(key) else { return nil }
        guard !string.isEmpty else {
            throw ConfigurationError(code: .outOfRange, keyPath: path(key), given: "\"\"", allowed: "a non-empty path")
        }
        return string
    }

    func object(_ key: String) throws(ConfigurationError) -> ConfigObject? {
        guard let value = fields[key] else { return nil }
        guard case .object(let object) = value else { throw wrongType(key, value, expected: "an object of keys") }
        return ConfigObject(object, path: path(key), texts: texts)
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = fields[key] else { return nil }
        let integer: Int
        switch value {
        case .int(let number): integer = number
        case .double(let number) where number == number.rounded() && abs(number) < 1e18: integer = Int(number)
        default: throw wrongType(key, value, expected: "an integer \(Self.describe(range))")
        }
        guard range.contains(integer) else {
            throw ConfigurationError(code: .outOfRange, keyPath: path(key), given: value.description, allowed: "an integer \(Self.describe(range))")
        }
        return integer
    }

    func number(_ key: String, minimum: Double, maximum: Double?) throws(ConfigurationError) -> Double? {
        guard let value = fields[key] else { return nil }
        let allowed = maximum.map { "a number from \(minimum) to \($0)" } ?? "a number of at least \(minimum)"
        guard let number = value.numberValue else { throw wrongType(key, value, expected: allowed) }
        guard number.isFinite, number >= minimum, number <= (maximum ?? .infinity) else {
            throw ConfigurationError(code: .outOfRange, keyPath: path(key), given: value.description, allowed: allowed)
        }
        return number
    }

    /// The longest duration any key accepts, in seconds (about 31 years): beyond any sensible
    /// interval, delay or timeout, and far enough inside `Duration`'s range that the clocks'
    /// arithmetic on it (`now + interval`, a backoff's `delay × multiplier`) cannot overflow.
    static let maximumSeconds: Double = 1e9

    /// A duration written as a number of seconds: finite, within `minimum` (`inclusive` or not) and
    /// ``maximumSeconds``; with an exclusive minimum also non-zero once converted to `Duration`.
    func seconds(_ key: String, minimum: Double, inclusive: Bool) throws(ConfigurationError) -> Duration? {
        guard let value = fields[key] else { return nil }
        let lower = inclusive ? "at least \(minimum)" : "greater than \(minimum)"
        let allowed = "a number of seconds \(lower) and at most \(Int(Self.maximumSeconds)) (about 31 years)"
        guard let number = value.numberValue else { throw wrongType(key, value, expected: allowed) }
        guard number.isFinite, inclusive ? number >= minimum : number > minimum, number <= Self.maximumSeconds else {
            throw ConfigurationError(code: .outOfRange, keyPath: path(key), given: value.description, allowed: allowed)
        }
        let duration = Duration.seconds(number)
        // `Duration` counts attoseconds, so a positive number below one (1e-320, say) becomes 0 s:
        // where the minimum is exclusive, 0 s would pass here and trap or spin later.
        guard inclusive || duration > .seconds(minimum) else {
            throw ConfigurationError(
                code: .outOfRange, keyPath: path(key), given: value.description,
                allowed: allowed + "; \(value.description) s is below the resolution of an attosecond (1e-18 s) and would be 0 s")
        }
        return duration
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        range.upperBound == .max ? "of at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
    }
}
