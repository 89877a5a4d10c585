/// Reads the elements of an array, in order; its position is the index of the next element.
public struct CollectionSource<Element: Sendable>: Source {
    public let elements: [Element]

    public init(_ elements: [Element]) {
        self.elements = elements
    }

    public func makeReader(startingAt position: Int?) throws -> Reader {
        let start = position ?? 0
        guard (0...elements.count).contains(start) else {
            throw SourcePositionError(source: "CollectionSource", position: "\(start)", allowed: "0...\(elements.count)")
        }
        return Reader(elements: elements, position: start)
    }

    public struct Reader: SourceReader {
        @usableFromInline let elements: [Element]
        @usableFromInline var next: Int
        /// The index of the next element to read.
        public var position: Int { next }

        @inlinable
        public mutating func read(into buffer: inout [Element], limit: ReadLimit) async throws -> Bool {
            let end = min(elements.count, next + limit.maxCount)
            buffer.append(contentsOf: elements[next..<end])
            next = end
            return end < elements.count
        }

        @usableFromInline
        init(elements: [Element], position: Int) {
            self.elements = elements
            self.next = position
        }
    }
}

/// A source was asked to start from a position it does not have (a stale or foreign checkpoint).
public struct SourcePositionError: Error, CustomStringConvertible {
    public let source: String
    public let position: String
    public let allowed: String

    public var description: String {
        "\(source) cannot start at position \(position) (allowed: \(allowed))"
    }
}
