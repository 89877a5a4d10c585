/// Holds a mutable value (a sink writer, an operator instance) for the closures of one step.
@usableFromInline
final class WriterBox<Value> {
    @usableFromInline var value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
