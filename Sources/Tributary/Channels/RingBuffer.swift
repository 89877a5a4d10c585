/// A FIFO queue over a growable circular array: O(1) append and popFirst without shifting.
struct RingBuffer<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func append(_ element: Element) {
        if count == storage.count {
            var grown = [Element?](repeating: nil, count: Swift.max(4, storage.count * 2))
            for offset in 0..<count { grown[offset] = storage[(head + offset) % storage.count] }
            storage = grown
            head = 0
        }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    /// The newest element.
    var last: Element? {
        count > 0 ? storage[(head + count - 1) % storage.count] : nil
    }

    /// Replaces the newest element (the queue must not be empty).
    mutating func replaceLast(with element: Element) {
        guard count > 0 else { return append(element) }
        storage[(head + count - 1) % storage.count] = element
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }
}
