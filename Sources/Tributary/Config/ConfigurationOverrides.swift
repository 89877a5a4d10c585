/// Configuration values set from outside a program's code — environment variables and
/// command-line arguments — applied over its dictionary or JSON file, each key as if it had
/// been written there (`fault_tolerance.checkpoint_interval=5` sets that key of the
/// `fault_tolerance` object, creating the object if the dictionary has none).
///
/// Values are text: `true` and `false` read as booleans, whole numbers as integers, other
/// numbers as numbers, anything else as a string; a key that takes a string takes the text as
/// written (`--job_id 007` is the string "007").
struct ConfigurationOverrides {
    struct Entry {
        /// The key's path: `["fault_tolerance", "checkpoint_interval"]`.
        let path: [String]
        let text: String
        /// Where it was set, for error messages: `the argument '--batch_size=0'`.
        let origin: String

        var keyPath: String { path.joined(separator: ".") }
    }

    var entries: [Entry] = []

    static let environmentPrefix = "TRIBUTARY_"

    /// `TRIBUTARY_<KEY>` variables, `__` between a key and its object's key:
    /// `TRIBUTARY_FAULT_TOLERANCE__CHECKPOINT_INTERVAL=5`. In name order, so the result does
    /// not depend on the environment's order.
    static func environment(_ variables: [String: String]) -> ConfigurationOverrides {
        var overrides = ConfigurationOverrides()
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) where name.hasPrefix(environmentPrefix) {
            let path = name.dropFirst(environmentPrefix.count).components(separatedBy: "__").map { $0.lowercased() }
            overrides.entries.append(Entry(path: path, text: value, origin: "the environment variable \(name)"))
        }
        return overrides
    }

    /// `--key=value` or `--key value`, the key a dotted path (`--fault_tolerance.delay=0`);
    /// `-` in a key reads as `_` (`--fault-tolerance.checkpoint-interval`); a key alone, with no
    /// value after it, is `true` (`--restart_completed`).
    /// - Throws: ``ConfigurationError`` naming an argument that is not of that form.
    static func arguments(_ arguments: [String]) throws(ConfigurationError) -> ConfigurationOverrides {
        var overrides = ConfigurationOverrides()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationError(
                    code: .badArgument, keyPath: argument, given: nil,
                    allowed: "configuration arguments written --key=value or --key value, the key a dotted path such as --fault_tolerance.checkpoint_interval=5")
            }
            let body = argument.dropFirst(2)
            let key: Substring
            let text: String
            if let equals = body.firstIndex(of: "=") {
                key = body[..<equals]
                text = String(body[body.index(after: equals)...])
            } else if index < arguments.count, !arguments[index].hasPrefix("--") {
                key = body
                text = arguments[index]
                index += 1
            } else {
                key = body
                text = "true"
            }
            let path = key.split(separator: ".", omittingEmptySubsequences: false).map { $0.replacingOccurrences(of: "-", with: "_") }
            guard !path.contains(where: \.isEmpty) else {
                throw ConfigurationError(
                    code: .badArgument, keyPath: argument, given: nil,
                    allowed: "a key path of names separated by single dots, such as --fault_tolerance.checkpoint_interval=5")
            }
            overrides.entries.append(Entry(path: path, text: text, origin: "the argument '\(argument)'"))
        }
        return overrides
    }

    /// The value `text` stands for (see the type's documentation).
    static func value(of text: String) -> ConfigValue {
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default:
            if let integer = Int(text) { return .int(integer) }
            if let number = Double(text) { return .double(number) }
            return .string(text)
        }
    }

    /// The texts by dotted key path, so a key that takes a string reads the text as written.
    var texts: [String: String] {
        var texts: [String: String] = [:]
        for entry in entries { texts[entry.keyPath] = entry.text }
        return texts
    }

    /// `dictionary` with every entry set, in order (a later one wins).
    func applied(to dictionary: [String: ConfigValue]) throws(ConfigurationError) -> [String: ConfigValue] {
        var result = dictionary
        for entry in entries {
            try Self.set(Self.value(of: entry.text), at: entry.path[...], in: &result, entry: entry)
        }
        return result
    }

    private static func set(_ value: ConfigValue, at path: ArraySlice<String>, in object: inout [String: ConfigValue], entry: Entry) throws(ConfigurationError) {
        guard let key = path.first else { return }
        if path.count == 1 {
            object[key] = value
            return
        }
        var inner: [String: ConfigValue]
        switch object[key] {
        case nil: inner = [:]
        case .object(let fields)?: inner = fields
        case let other?:
            let keyPath = entry.path[..<(entry.path.count - path.count + 1)].joined(separator: ".")
            var error = ConfigurationError(
                code: .wrongType, keyPath: keyPath, given: "\(other) (\(other.typeDescription))",
                allowed: "an object of keys, for \(entry.keyPath) to be set in it")
            error.origin = entry.origin
            throw error
        }
        try set(value, at: path.dropFirst(), in: &inner, entry: entry)
        object[key] = .object(inner)
    }

    /// `error` with the place its key was set, if an entry set it.
    func attributed(_ error: ConfigurationError) -> ConfigurationError {
        guard error.origin == nil, let entry = entries.last(where: { $0.keyPath == error.keyPath }) else { return error }
        var attributed = error
        attributed.origin = entry.origin
        return attributed
    }
}

extension EnvironmentConfiguration {
    /// `dictionary`, then the `TRIBUTARY_…` variables of `environment`, then `arguments` (see
    /// ``LocalEnvironment/init(_:config:arguments:environment:)``), with the dictionary form's
    /// validation and messages; an error about a key set by a variable or an argument says so.
    public init(_ dictionary: [String: ConfigValue], environment: [String: String], arguments: [String]) throws(ConfigurationError) {
        var overrides = ConfigurationOverrides.environment(environment)
        overrides.entries += try ConfigurationOverrides.arguments(arguments).entries
        let merged = try overrides.applied(to: dictionary)
        do {
            self = try ConfigurationParser.parse(merged, texts: overrides.texts)
        } catch {
            throw overrides.attributed(error)
        }
    }
}
