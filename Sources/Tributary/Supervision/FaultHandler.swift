import Synchronization

/// A fault-tolerance strategy of your own, selected by name in the configuration
/// (`"strategy": "retry_then_skip"`) once registered with ``FaultToleranceRegistry``.
///
/// The job asks its handler about every failure of an operator that has no
/// `supervised(_:)` policy of its own (after the `onFailure` classifier, if any).
public protocol FaultHandler: Sendable {
    /// Decides what to do about one failure.
    func handle(_ failure: FailureInfo) async -> FaultHandlerDecision

    /// Whether this handler may decide ``FaultHandlerDecision/failover(restartAfter:)``. The
    /// plan is made before any failure, so it asks here: when `true`, every operator this
    /// handler supervises that can fail over (stateless, more than one instance, see
    /// ``SupervisionPolicy/failover(_:)``) runs in instances of its own with round-robin input,
    /// which costs the fusion with the operator before it. Defaults to `false`.
    var failsOver: Bool { get }
}

extension FaultHandler {
    public var failsOver: Bool { false }
}

/// What a ``FaultHandler`` decides for one failure.
public struct FaultHandlerDecision: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case restart(Duration)
        case failover(Duration)
        case skip
        case escalate
    }

    let kind: Kind

    /// Wait `delay`, restart the operator with a fresh instance and retry the record.
    public static func restart(after delay: Duration) -> FaultHandlerDecision { FaultHandlerDecision(kind: .restart(delay)) }
    /// Replica takeover: restart the failed instance after `delay` and retry the record, its
    /// input going to its siblings meanwhile (``SupervisionPolicy/failover(_:)``). Only a
    /// handler whose ``FaultHandler/failsOver`` is `true` gets the plan this needs; for any
    /// other, and for an operator that cannot fail over, it is ``restart(after:)``.
    public static func failover(restartAfter delay: Duration) -> FaultHandlerDecision { FaultHandlerDecision(kind: .failover(delay)) }
    /// Skip the record into the dead letters.
    public static let skip = FaultHandlerDecision(kind: .skip)
    /// Hand the failure to the job (without checkpoints, the job fails).
    public static let escalate = FaultHandlerDecision(kind: .escalate)
}

/// Custom fault-tolerance strategies by name.
///
/// ```swift
/// try FaultToleranceRegistry.register("retry_then_skip") { options in
///     RetryThenSkip(retries: options["retries"]?.numberValue.map(Int.init) ?? 3)
/// }
/// let env = try LocalEnvironment("job", config: ["fault_tolerance": ["strategy": "retry_then_skip", "retries": 5]])
/// ```
///
/// A registered name is a valid `fault_tolerance.strategy`; the `fault_tolerance` keys that are
/// not built-in reach the factory unchanged. The factory runs when the environment is created,
/// so it can reject its keys with a ``ConfigurationError`` before anything runs.
public enum FaultToleranceRegistry {
    public typealias Factory = @Sendable (_ options: [String: ConfigValue]) throws -> any FaultHandler

    private static let factories = Mutex<[String: Factory]>([:])

    /// Registers (or replaces) the strategy `name`.
    /// - Throws: ``ConfigurationError`` when `name` is a built-in strategy (`checkpoint`,
    ///   `restart`, `none`) or empty: a configuration naming it must keep meaning the built-in.
    public static func register(_ name: String, _ factory: @escaping Factory) throws(ConfigurationError) {
        let builtIn = FaultToleranceStrategy.builtIn.map(\.name)
        guard !name.isEmpty, !builtIn.contains(name) else {
            throw ConfigurationError(
                code: .conflictingKeys, keyPath: "FaultToleranceRegistry.register", given: ConfigValue.string(name).description,
                allowed: "a non-empty name other than the built-in strategies \(builtIn.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        factories.withLock { $0[name] = factory }
    }

    /// The names registered so far.
    public static var registeredNames: [String] { factories.withLock { $0.keys.sorted() } }

    static func factory(named name: String) -> Factory? {
        factories.withLock { $0[name] }
    }

    /// Makes the handler of a custom strategy from its options.
    static func makeHandler(_ strategy: FaultToleranceStrategy, options: [String: ConfigValue]) throws(ConfigurationError) -> (any FaultHandler)? {
        guard !FaultToleranceStrategy.builtIn.contains(strategy) else { return nil }
        guard let factory = factory(named: strategy.name) else {
            throw ConfigurationError(
                code: .unknownValue, keyPath: "fault_tolerance.strategy", given: "\"\(strategy.name)\"",
                allowed: (FaultToleranceStrategy.builtIn.map(\.name) + registeredNames).map { "\"\($0)\"" }.joined(separator: ", "))
        }
        do {
            return try factory(options)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(
                code: .unknownValue, keyPath: "fault_tolerance", given: ConfigValue.object(options).description,
                allowed: "options strategy \"\(strategy.name)\" accepts (\(error))")
        }
    }
}
