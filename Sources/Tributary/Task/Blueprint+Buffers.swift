// The typed pieces of an instance, made where the element types are known.

extension OutputBlueprint {
    func makeOutputBuffer(capacity: Int) -> AnyObject { BatchBuffer<Output>(capacity: capacity) }
}

extension InputBlueprint {
    func makeInputBuffer(capacity: Int) -> AnyObject { BatchBuffer<Input>(capacity: capacity) }

    func makeInbox(lanes: Int, capacity: Int, onFull: (@Sendable (Int) -> Void)?) -> any ClosableInbox {
        Inbox<Input>(lanes: lanes, capacity: capacity, onFull: onFull)
    }
}
