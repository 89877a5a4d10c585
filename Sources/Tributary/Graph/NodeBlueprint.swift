/// What a logical operator is: its role, inputs and element types.
///
/// The builder records one blueprint per operator. Blueprints are generic over the element
/// types; the runtime (which is not) opens them once per instance to build typed buffers,
/// inboxes, steps and emitters (`Task/`, `Routing/`), never per record. The graph holds no
/// runtime code.
@usableFromInline
protocol NodeBlueprint: Sendable {
    var role: NodeRole { get }
    /// The operator kind, used for default names (`map-2`).
    var label: String { get }
    /// The node ids of the inputs, in order.
    var inputs: [Int] { get }
    /// Set when the input arrives through `keyBy`: records are hash-partitioned by key.
    var inputPartitioner: (any Sendable)? { get }
    /// The element types, for error messages.
    var inputTypeName: String? { get }
    var outputTypeName: String? { get }
    /// Any instance may take any of its records, and what it makes of one depends on nothing
    /// an instance keeps: such an operator can fail over (``SupervisionPolicy/failover(_:)``).
    var servesAnyRecord: Bool { get }
}

@usableFromInline
enum NodeRole: Sendable, Equatable {
    case source
    case transform
    case union
    case sink
}

/// The output side of a blueprint (sources, transforms, unions).
@usableFromInline
protocol OutputBlueprint: NodeBlueprint {
    associatedtype Output: Sendable
}

/// The input side of a blueprint (transforms, unions, sinks).
@usableFromInline
protocol InputBlueprint: NodeBlueprint {
    associatedtype Input: Sendable
    /// Builds this operator's step for one instance (in `Operators/`).
    func makeStep(input: AnyObject, output: AnyObject?, context: StepContext) throws -> Step
}

/// A source's blueprint: runs the read loop of one source instance.
@usableFromInline
protocol SourceBlueprint: OutputBlueprint {
    var isReplayable: Bool { get }
    func runSource(chain: Chain, settings: SourceSettings, isolation: isolated (any Actor)?) async throws
}

extension NodeBlueprint {
    @usableFromInline var inputPartitioner: (any Sendable)? { nil }
    @usableFromInline var servesAnyRecord: Bool { false }
}

extension OutputBlueprint {
    @usableFromInline var outputTypeName: String? { String(describing: Output.self) }
}

extension InputBlueprint {
    @usableFromInline var inputTypeName: String? { String(describing: Input.self) }
}
