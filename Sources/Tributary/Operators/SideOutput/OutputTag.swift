/// Names a side output: a second stream of `Value`s an operator emits beside its main output
/// (``WindowedStream/sideOutputLateData(_:)`` sends a window's late records to one). Read it
/// with ``DataStream/sideOutput(_:)`` on the operator's main stream.
///
/// Tags are told apart by name: two tags of one operator need different names.
public struct OutputTag<Value: Sendable>: Sendable, Hashable {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }
}

/// An operator's output when it has side outputs: a main record, or a value for the side
/// output of that name. Operators that have side outputs emit these, and a small stage after
/// them per output hands each kind on (see ``DataStream/sideOutput(_:)``). With two or more
/// such stages the operator has several consumers, so they run as instances of their own,
/// over channels, not fused into it.
@usableFromInline
enum SideOutputItem<Main: Sendable>: Sendable {
    case main(Main)
    case side(String, any Sendable)
}

/// Any ``OutputTag``, whatever its value type: what an operator that declares its side outputs
/// up front takes (``KeyedStream/process(initial:sideOutputs:_:onTimer:)``), so tags of
/// different value types fit in one list.
public protocol SideOutputTag: Sendable {
    /// The tag's name: side outputs are told apart by it.
    var name: String { get }
    /// The type of the values the side output holds.
    var valueType: any Sendable.Type { get }
}

extension OutputTag: SideOutputTag {
    public var valueType: any Sendable.Type { Value.self }
}
