/// A configuration value that Tributary cannot accept, found before anything runs.
///
/// The message names the key path (`fault_tolerance.checkpoint_interval`), the value given and
/// what is allowed; for an unknown key it suggests the nearest valid one.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of mistake the configuration holds.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate let name: String
        /// A key that no part of the configuration knows.
        public static let unknownKey = Code(name: "unknownKey")
        /// A value of the wrong type (a string where a number is expected, say).
        public static let wrongType = Code(name: "wrongType")
        /// A number outside its allowed range.
        public static let outOfRange = Code(name: "outOfRange")
        /// A string that is not one of the allowed names (a strategy, say).
        public static let unknownValue = Code(name: "unknownValue")
        /// A key that is valid, but not together with the other keys given.
        public static let conflictingKeys = Code(name: "conflictingKeys")
        /// A configuration file that could not be read or is not a JSON object.
        public static let unreadableFile = Code(name: "unreadableFile")
        /// A command-line argument that is not `--key=value` or `--key value`.
        public static let badArgument = Code(name: "badArgument")
        public var description: String { name }
    }

    public let code: Code
    /// The dotted path of the offending key, e.g. `fault_tolerance.restart_strategy`.
    public let keyPath: String
    /// What was given, as written (JSON notation), or `nil` when nothing was.
    public let given: String?
    /// What is allowed there, in words.
    public let allowed: String
    /// For an unknown key or value: the nearest valid one, if any is close.
    public let suggestion: String?
    /// Where the key was set when not in the dictionary or file: `the argument
    /// '--batch_size=0'`, `the environment variable TRIBUTARY_BATCH_SIZE`.
    public internal(set) var origin: String?

    public init(code: Code, keyPath: String, given: String?, allowed: String, suggestion: String? = nil) {
        self.code = code
        self.keyPath = keyPath
        self.given = given
        self.allowed = allowed
        self.suggestion = suggestion
    }

    public var description: String {
        var text: String
        switch code {
        case .unknownKey:
            text = "unknown configuration key '\(keyPath)'"
        case .unreadableFile:
            text = "cannot read configuration file '\(keyPath)'"
        case .badArgument:
            text = "'\(keyPath)' is not a configuration argument"
        default:
            text = "invalid value for '\(keyPath)'"
            if let given { text += ": got \(given)" }
        }
        if let suggestion { text += "; did you mean '\(suggestion)'?" }
        text += " (allowed: \(allowed))"
        if let origin { text += "; set by \(origin)" }
        return text
    }
}
