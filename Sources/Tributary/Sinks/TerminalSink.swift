/// Prints each record on its own line to standard output (at-least-once: after a recovery from
/// a checkpoint, records may be printed again).
public struct TerminalSink<Element: Sendable>: Sink {
    public let prefix: String

    /// - Parameter prefix: printed before each record, e.g. `"out> "`.
    public init(prefix: String = "") {
        self.prefix = prefix
    }

    public func makeWriter(_ context: SinkContext) throws -> Writer {
        Writer(prefix: prefix)
    }

    public struct Writer: SinkWriter {
        let prefix: String

        public mutating func write(_ records: [Element]) throws {
            var text = ""
            for record in records {
                text += prefix
                text += String(describing: record)
                text += "\n"
            }
            print(text, terminator: "")
        }
    }
}
