/// Builds a ``StateNode`` tree from `Encodable` values (the `Encoder` half of ``StateCoder``).
final class NodeEncoder: Encoder {
    /// A node being built; containers fill theirs after they are handed out.
    final class Slot {
        enum Content {
            case empty
            case value(StateNode)
            case array([Slot])
            case object([(String, Slot)])
        }

        var content = Content.empty

        func finish() -> StateNode {
            switch content {
            case .empty: return .object([:])
            case .value(let node): return node
            case .array(let slots): return .array(slots.map { $0.finish() })
            case .object(let fields):
                var object: [String: StateNode] = [:]
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
        if case .object = root.content {} else { root.content = .object([]) }
        return KeyedEncodingContainer(KeyedContainer<Key>(slot: root, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = root.content {} else { root.content = .array([]) }
        return UnkeyedContainer(slot: root, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(slot: root, codingPath: codingPath)
    }

    static func node<T: Encodable>(for value: T, codingPath: [any CodingKey]) throws -> Slot {
        let slot = Slot()
        if let node = primitive(value) {
            slot.content = .value(node)
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
            guard case .object(var fields) = slot.content else { return }
            fields.append((key, child))
            slot.content = .object(fields)
        }

        mutating func encodeNil(forKey key: Key) throws {
            let child = Slot()
            child.content = .value(.null)
            append(key, child)
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            append(key, try NodeEncoder.node(for: value, codingPath: codingPath + [key]))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let child = Slot()
            child.content = .object([])
            append(key, child)
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath + [key]))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Slot()
            child.content = .array([])
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
        var count: Int {
            if case .array(let items) = slot.content { return items.count }
            return 0
        }

        private func append(_ child: Slot) {
            guard case .array(var items) = slot.content else { return }
            items.append(child)
            slot.content = .array(items)
        }

        mutating func encodeNil() throws {
            let child = Slot()
            child.content = .value(.null)
            append(child)
        }

        mutating func encode<T: Encodable>(_ value: T) throws {
            append(try NodeEncoder.node(for: value, codingPath: codingPath))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let child = Slot()
            child.content = .object([])
            append(child)
            return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Slot()
            child.content = .array([])
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

        mutating func encodeNil() throws { slot.content = .value(.null) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            let child = try NodeEncoder.node(for: value, codingPath: codingPath)
            slot.content = child.content
        }
    }
}
