/// Builds a ``StateNode`` tree from `Encodable` values (the `Encoder` half of ``StateCoder``).
final class NodeEncoder: Encoder {
    /// A node being built; containers fill theirs after they are handed out. Children are
    /// appended in place (an enum payload would be copied on every append).
    final class Slot {
        enum Kind {
            case empty, value, array, object
        }

        var kind = Kind.empty
        var value = StateNode.null
        var items: [Slot] = []
        var fields: [(String, Slot)] = []

        func setValue(_ node: StateNode) {
            kind = .value
            value = node
        }

        func finish() -> StateNode {
            switch kind {
            case .empty: return .object([:])
            case .value: return value
            case .array: return .array(items.map { $0.finish() })
            case .object:
                var object: [String: StateNode] = [:]
                object.reserveCapacity(fields.count)
                for (key, slot) in fields { object[key] = slot.finish() }
                return .object(object)
            }
        }
    }

    let root: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(root: Slot = Slot(), codingPath: [any CodingKey] = []) {
        self.root = root
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if root.kind != .object { root.kind = .object }
        return KeyedEncodingContainer(KeyedContainer<Key>(slot: root, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if root.kind != .array { root.kind = .array }
        return UnkeyedContainer(slot: root, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(slot: root, codingPath: codingPath)
    }

    static func node<T: Encodable>(for value: T, codingPath: [any CodingKey]) throws -> Slot {
        let slot = Slot()
        if let node = primitive(value) {
            slot.setValue(node)
        } else {
            try value.encode(to: NodeEncoder(root: slot, codingPath: codingPath))
        }
        return slot
    }

    /// Values with a direct node, so they need no encoder of their own.
    static func primitive<T>(_ value: T) -> StateNode? {
        switch value {
        case let value as Int: .int(Int64(value))
        case let value as Int64: .int(value)
        case let value as Int32: .int(Int64(value))
        case let value as Int16: .int(Int64(value))
        case let value as Int8: .int(Int64(value))
        case let value as UInt: .uint(UInt64(value))
        case let value as UInt64: .uint(value)
        case let value as UInt32: .uint(UInt64(value))
        case let value as UInt16: .uint(UInt64(value))
        case let value as UInt8: .uint(UInt64(value))
        case let value as Double: .double(value)
        case let value as Float: .double(Double(value))
        case let value as Bool: .bool(value)
        case let value as String: .string(value)
        default: nil
        }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        let codingPath: [any CodingKey]

        private func append(_ key: Key, _ child: Slot) {
            append(key.stringValue, child)
        }

        private func append(_ key: String, _ child: Slot) {
            slot.fields.append((key, child))
        }

        mutating func encodeNil(forKey key: Key) throws {
            let child = Slot()
            child.setValue(.null)
            append(key, child)
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            append(key, try NodeEncoder.node(for: value, codingPath: codingPath + [key]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = Slot()
            child.kind = .object
            append(key, child)
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Slot()
            child.kind = .array
            append(key, child)
            return UnkeyedContainer(slot: child, codingPath: codingPath + [key])
        }

        mutating func superEncoder() -> any Encoder {
            let child = Slot()
            append("super", child)
            return NodeEncoder(root: child, codingPath: codingPath)
        }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let child = Slot()
            append(key, child)
            return NodeEncoder(root: child, codingPath: codingPath + [key])
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]
        var count: Int { slot.items.count }

        private func append(_ child: Slot) {
            slot.items.append(child)
        }

        mutating func encodeNil() throws {
            let child = Slot()
            child.setValue(.null)
            append(child)
        }

        mutating func encode<T: Encodable>(_ value: T) throws {
            append(try NodeEncoder.node(for: value, codingPath: codingPath))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = Slot()
            child.kind = .object
            append(child)
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Slot()
            child.kind = .array
            append(child)
            return UnkeyedContainer(slot: child, codingPath: codingPath)
        }

        mutating func superEncoder() -> any Encoder {
            let child = Slot()
            append(child)
            return NodeEncoder(root: child, codingPath: codingPath)
        }
    }

    struct SingleContainer: SingleValueEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.setValue(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let child = try NodeEncoder.node(for: value, codingPath: codingPath)
            slot.kind = child.kind
            slot.value = child.value
            slot.items = child.items
            slot.fields = child.fields
        }
    }
}
