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
    /// Misuse found while building (reported at `submit()`, so building stays non-throwing).
    var problems: [PipelineError] = []

    func name(of id: Int) -> String {
        nodes[id].name ?? "\(nodes[id].blueprint.label)-\(id)"
    }
}
