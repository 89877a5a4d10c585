extension KeyedProcessContext {
    /// Runs a user's call, written against a context of `Main`, inside this context of the
    /// operator's ``SideOutputItem``s: the call's state, timer changes and outputs become this
    /// context's, main records first, then side records in the order sent. A record sent to a
    /// tag not in `declared` (name → value type) fails the call.
    @inlinable
    mutating func forwarding<Main>(
        declared: [String: ObjectIdentifier], _ body: (inout KeyedProcessContext<Key, State, Main>) throws -> Void
    ) throws where Output == SideOutputItem<Main> {
        var inner = KeyedProcessContext<Key, State, Main>(
            key: key, state: stateValue, initial: initial, outputs: [], timers: KeyedTimers(changes: []), clock: clock,
            watermark: currentWatermark)
        // The instance's reused buffer of timer changes: handed in and taken back, not copied.
        swap(&inner.timers.changes, &timers.changes)
        defer { swap(&inner.timers.changes, &timers.changes) }
        try body(&inner)
        for sent in inner.sideRecords where declared[sent.tag] != sent.type {
            throw UndeclaredSideOutputError(tag: sent.tag, declared: declared)
        }
        stateValue = inner.stateValue
        written = inner.written
        cleared = inner.cleared
        for record in inner.outputs { outputs.append(.main(record)) }
        for sent in inner.sideRecords { outputs.append(.side(sent.tag, sent.value)) }
    }
}

/// The side outputs a process function declares, by name. Two tags of one name with different
/// value types are a mistake in the pipeline, reported by `submit()`.
@usableFromInline
struct DeclaredSideOutputs: Sendable {
    @usableFromInline let types: [String: ObjectIdentifier]
    @usableFromInline let valueTypes: [String: Any.Type]

    @usableFromInline
    init(_ tags: [any SideOutputTag], environment: LocalEnvironment) {
        var types: [String: ObjectIdentifier] = [:]
        var valueTypes: [String: Any.Type] = [:]
        for tag in tags {
            if let other = valueTypes[tag.name], ObjectIdentifier(other) != ObjectIdentifier(tag.valueType) {
                environment.recordProblem(
                    PipelineError(
                        code: .invalidArgument,
                        message: "process(initial:sideOutputs:): two side outputs are named \"\(tag.name)\", one of \(other) and one of \(tag.valueType); give each its own name"))
            }
            types[tag.name] = ObjectIdentifier(tag.valueType)
            valueTypes[tag.name] = tag.valueType
        }
        self.types = types
        self.valueTypes = valueTypes
    }
}

/// A keyed process function sent a record to a side output it did not declare (or declared
/// for values of another type).
@usableFromInline
struct UndeclaredSideOutputError: Error, CustomStringConvertible {
    let tag: String
    /// The declared tags, by name: empty when the function declared none.
    let declared: [String: ObjectIdentifier]

    @usableFromInline
    init(tag: String, declared: [String: ObjectIdentifier]) {
        self.tag = tag
        self.declared = declared
    }

    @usableFromInline
    var description: String {
        let names = declared.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        let what = declared[tag] != nil
            ? "side output \"\(tag)\" with a value of another type than the tag it declares"
            : "side output \"\(tag)\", which it does not declare"
        let hint = declared.isEmpty
            ? "declare it: process(initial:sideOutputs: [tag]) { ... }"
            : "it declares \(names)"
        return "the process function sent a record to \(what) (\(hint))"
    }
}
