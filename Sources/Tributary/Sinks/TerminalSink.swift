/// Prints each record on its own line to standard output (at-least-once: after a recovery from
/// a checkpoint, records may be printed again).
public struct TerminalSink<Element: Sendable>: Sink {
    public let prefix: String
    let output: @Sendable (String) -> Void

    /// - Parameters:
    ///   - prefix: printed before each record, e.g. `"out> "`.
    ///   - output: where each batch's text goes; standard output by default.
    public init(prefix: String = "", output: @escaping @Sendable (String) -> Void = { print($0, terminator: "") }) {
        self.prefix = prefix
        self.output = output
    }

    public func makeWriter(_ context: SinkContext) throws -> Writer {
        Writer(prefix: prefix, output: output)
    }

    public struct Writer: SinkWriter {
        let prefix: String
        let output: @Sendable (String) -> Void

        public mutating func write(_ records: [Element]) throws {
            var text = ""
            for record in records {
                text += prefix
                text += String(describing: record)
                text += "\n"
            }
            output(text)
        }
    }
}
