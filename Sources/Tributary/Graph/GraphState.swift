/// The logical graph as the builder records it: one node per operator, in creation order (which
/// is a topological order, since an operator can only consume streams that already exist).
struct GraphState {
    struct Node {
        let blueprint: any NodeBlueprint
        var name: String?
        var parallelism = 1
        /// Set by `supervised(_:)`; `nil` means the environment's default.
        var policy: SupervisionPolicy?
    }

    var nodes: [Node] = []
    /// Operators with side outputs, by the node that hands their main output on: the
    /// operator, its tags (name → value type), and the nodes that read them.
    struct SideOutputs {
        let producer: Int
        let tags: [String: ObjectIdentifier]
        var readers: [Int] = []
    }

    var sideOutputs: [Int: SideOutputs] = [:]

    /// The node that `named`, `parallelism` and `supervised` on `id` configure: the operator
    /// itself when `id` only hands its main output on.
    func operatorNode(_ id: Int) -> Int {
        sideOutputs[id]?.producer ?? id
    }

    /// Misuse found while building (reported at `submit()`, so building stays non-throwing).
    var problems: [PipelineError] = []

    func name(of id: Int) -> String {
        nodes[id].name ?? "\(nodes[id].blueprint.label)-\(id)"
    }
}
