/// A source operator. `loop` is built by the inlinable `fromSource`, so reading records runs
/// code specialised for the concrete source.
@usableFromInline
struct SourceNode<S: Source>: SourceBlueprint {
    @usableFromInline typealias Output = S.Element
    @usableFromInline
    typealias Loop = @Sendable (Chain, SourceSettings, isolated (any Actor)?) async throws -> Void

    let source: S
    let loop: Loop

    @usableFromInline
    init(source: S, loop: @escaping Loop) {
        self.source = source
        self.loop = loop
    }

    @usableFromInline var role: NodeRole { .source }
    @usableFromInline var label: String { "source" }
    @usableFromInline var inputs: [Int] { [] }
    @usableFromInline var inputTypeName: String? { nil }
    @usableFromInline var isReplayable: Bool { source.isReplayable }

    @usableFromInline
    func runSource(chain: Chain, settings: SourceSettings, isolation: isolated (any Actor)?) async throws {
        try await loop(chain, settings, isolation)
    }
}

extension SourceNode: JobScopedBlueprint {
    var jobScoped: (any JobScopedSource)? { source as? any JobScopedSource }
}

/// A blueprint whose source has work that outlives one attempt of the job.
protocol JobScopedBlueprint {
    var jobScoped: (any JobScopedSource)? { get }
}
