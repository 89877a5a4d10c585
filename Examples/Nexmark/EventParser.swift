/// Parses one line of the Nexmark JSON-lines layout into an ``Event``.
///
/// The layout is fixed, so this is a byte scanner for exactly that shape rather than a JSON
/// parser:
///
/// ```
/// {"event_type":T,"person":{...}|null,"auction":{...}|null,"bid":{...}|null}
/// ```
///
/// with no whitespace between tokens, `event_type` 0 (person), 1 (auction) or 2 (bid), the
/// object named by `event_type` present and the other two `null`, and each object's fields in
/// the documented order (see `README.md` of the sample data). Numbers are 64-bit integers;
/// `dateTime` and `expires` are `"yyyy-MM-dd HH:mm:ss.SSS"` in UTC and become milliseconds since
/// 1970 as a `Duration`.
///
/// Parsing allocates nothing but the `String` values of the event (strings of up to 15 UTF-8
/// bytes are stored inline and allocate nothing at all). A string without a backslash is
/// validated and copied in one step; one with escapes is decoded (`\" \\ \/ \b \f \n \r \t`,
/// `\uXXXX` and surrogate pairs) through a stack buffer.
///
/// Any input that does not fit the layout throws a ``NexmarkParseError`` naming the field, what
/// was expected, the 1-based byte column and an excerpt of the line; no input traps or reads
/// outside `line`. The line must not include its terminator: a trailing `\r` or `\n` is
/// reported as trailing characters.
public enum EventParser {
    /// Parses one line (without its line terminator) of the Nexmark layout.
    /// - Throws: ``NexmarkParseError`` when the bytes are not exactly one event in the layout.
    public static func parse(_ line: UnsafeBufferPointer<UInt8>) throws(NexmarkParseError) -> Event {
        var scanner = EventScanner(line)
        return try scanner.event()
    }

    /// Parses one line (without its line terminator) of the Nexmark layout.
    /// - Throws: ``NexmarkParseError`` when the text is not exactly one event in the layout.
    public static func parse(_ line: String) throws(NexmarkParseError) -> Event {
        var line = line
        let result = line.withUTF8 { bytes in
            Result { () throws(NexmarkParseError) -> Event in try EventParser.parse(bytes) }
        }
        return try result.get()
    }
}

/// A line of the Nexmark layout that does not parse: what the parser expected, in which field,
/// at which byte column, with an excerpt of the line around that column (marked `>>>`).
///
/// ```
/// invalid number in bid.price at column 90: expected an integer; near: ...3,"bidder":2101,"price":>>>x177,"channel":"Baidu","...
/// ```
public struct NexmarkParseError: Error, Sendable, CustomStringConvertible {
    /// The kind of mistake, stable for tests and for counting malformed lines.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: Sendable, Hashable {
            case unexpectedText, invalidEventType, invalidNumber, invalidTimestamp, invalidString, trailingCharacters
        }

        private let kind: Kind

        /// A field name or punctuation of the layout is wrong or missing, or the line ends early.
        public static let unexpectedText = Code(kind: .unexpectedText)
        /// `event_type` is not 0, 1 or 2.
        public static let invalidEventType = Code(kind: .invalidEventType)
        /// A number is missing, not an integer, has leading zeros, or is outside the 64-bit range.
        public static let invalidNumber = Code(kind: .invalidNumber)
        /// A timestamp is not `"yyyy-MM-dd HH:mm:ss.SSS"` or names a date or time that does not exist.
        public static let invalidTimestamp = Code(kind: .invalidTimestamp)
        /// A string is missing its quotes, holds a bad escape or a raw control character, or is not UTF-8.
        public static let invalidString = Code(kind: .invalidString)
        /// Something follows the event's closing brace.
        public static let trailingCharacters = Code(kind: .trailingCharacters)

        public var description: String {
            switch kind {
            case .unexpectedText: "unexpected text"
            case .invalidEventType: "invalid event type"
            case .invalidNumber: "invalid number"
            case .invalidTimestamp: "invalid timestamp"
            case .invalidString: "invalid string"
            case .trailingCharacters: "trailing characters"
            }
        }
    }

    public let code: Code
    /// What the parser expected at ``column``: a description such as "an integer", or the
    /// literal text of the layout between backticks.
    public let expected: String
    /// The field being read, such as `bid.price`, or `event` for the envelope.
    public let field: String
    /// The 1-based byte (not character) column in the line where the problem starts.
    public let column: Int
    /// Up to 24 bytes either side of ``column``, with `>>>` marking the column.
    public let excerpt: String

    public var description: String {
        "\(code) in \(field) at column \(column): expected \(expected); near: \(excerpt)"
    }

    init(_ code: Code, expected: String, field: StaticString, at index: Int, in line: UnsafeBufferPointer<UInt8>) {
        let index = max(0, min(index, line.count))
        self.code = code
        self.expected = expected
        self.field = "\(field)"
        self.column = index + 1
        self.excerpt = Self.excerpt(of: line, at: index)
    }

    private static func excerpt(of line: UnsafeBufferPointer<UInt8>, at index: Int) -> String {
        let radius = 24
        let lower = max(0, index - radius)
        let upper = min(line.count, index + radius)
        // Lossy decoding: an excerpt may cut a multi-byte character, and an error message must
        // not fail on bytes that are not UTF-8.
        let before = String(decoding: UnsafeBufferPointer(rebasing: line[lower..<index]), as: UTF8.self)
        let after = String(decoding: UnsafeBufferPointer(rebasing: line[index..<upper]), as: UTF8.self)
        let head = lower > 0 ? "..." : ""
        let tail = upper < line.count ? "..." : (index == line.count ? "(end of line)" : "")
        return head + before + ">>>" + after + tail
    }
}

/// Reads one event from a line, front to back; `index` is the next unread byte.
///
/// Every read of `bytes` is preceded by a bounds check against `bytes.count`, so malformed or
/// truncated input ends in a thrown error, never an out-of-bounds read.
struct EventScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: The layout

    mutating func event() throws(NexmarkParseError) -> Event {
        try literal(#"{"event_type":"#, in: "event")
        let typeStart = index
        let type = try integer(in: "event_type")
        let event: Event
        // The object named by event_type is parsed and the other two must be null; matching
        // the nulls as literals keeps the common path to a few byte compares.
        switch type {
        case 0:
            event = .person(try person(after: #","person":"#))
            try literal(#","auction":null"#, in: "auction (null when event_type is 0)")
            try literal(#","bid":null"#, in: "bid (null when event_type is 0)")
        case 1:
            try literal(#","person":null"#, in: "person (null when event_type is 1)")
            event = .auction(try auction(after: #","auction":"#))
            try literal(#","bid":null"#, in: "bid (null when event_type is 1)")
        case 2:
            try literal(#","person":null"#, in: "person (null when event_type is 2)")
            try literal(#","auction":null"#, in: "auction (null when event_type is 2)")
            event = .bid(try bid(after: #","bid":"#))
        default:
            throw failure(.invalidEventType, expected: "0 (person), 1 (auction) or 2 (bid)", in: "event_type", at: typeStart)
        }
        try literal("}", in: "event")
        guard index == bytes.count else {
            throw failure(.trailingCharacters, expected: "the end of the line after the event's closing `}`", in: "event", at: index)
        }
        return event
    }

    private mutating func person(after key: StaticString) throws(NexmarkParseError) -> Person {
        try literal(key, in: "event")
        let id = try integer(after: #"{"id":"#, in: "person.id")
        let name = try string(after: #","name":"#, in: "person.name")
        let emailAddress = try string(after: #","emailAddress":"#, in: "person.emailAddress")
        let creditCard = try string(after: #","creditCard":"#, in: "person.creditCard")
        let city = try string(after: #","city":"#, in: "person.city")
        let state = try string(after: #","state":"#, in: "person.state")
        let dateTime = try timestamp(after: #","dateTime":"#, in: "person.dateTime")
        let extra = try string(after: #","extra":"#, in: "person.extra")
        try literal("}", in: "person")
        return Person(
            id: id, name: name, emailAddress: emailAddress, creditCard: creditCard, city: city, state: state, dateTime: dateTime,
            extra: extra)
    }

    private mutating func auction(after key: StaticString) throws(NexmarkParseError) -> Auction {
        try literal(key, in: "event")
        let id = try integer(after: #"{"id":"#, in: "auction.id")
        let itemName = try string(after: #","itemName":"#, in: "auction.itemName")
        let description = try string(after: #","description":"#, in: "auction.description")
        let initialBid = try integer(after: #","initialBid":"#, in: "auction.initialBid")
        let reserve = try integer(after: #","reserve":"#, in: "auction.reserve")
        let dateTime = try timestamp(after: #","dateTime":"#, in: "auction.dateTime")
        let expires = try timestamp(after: #","expires":"#, in: "auction.expires")
        let seller = try integer(after: #","seller":"#, in: "auction.seller")
        let category = try integer(after: #","category":"#, in: "auction.category")
        let extra = try string(after: #","extra":"#, in: "auction.extra")
        try literal("}", in: "auction")
        return Auction(
            id: id, itemName: itemName, description: description, initialBid: initialBid, reserve: reserve, dateTime: dateTime,
            expires: expires, seller: seller, category: category, extra: extra)
    }

    private mutating func bid(after key: StaticString) throws(NexmarkParseError) -> Bid {
        try literal(key, in: "event")
        let auction = try integer(after: #"{"auction":"#, in: "bid.auction")
        let bidder = try integer(after: #","bidder":"#, in: "bid.bidder")
        let price = try integer(after: #","price":"#, in: "bid.price")
        let channel = try string(after: #","channel":"#, in: "bid.channel")
        let url = try string(after: #","url":"#, in: "bid.url")
        let dateTime = try timestamp(after: #","dateTime":"#, in: "bid.dateTime")
        let extra = try string(after: #","extra":"#, in: "bid.extra")
        try literal("}", in: "bid")
        return Bid(auction: auction, bidder: bidder, price: price, channel: channel, url: url, dateTime: dateTime, extra: extra)
    }

    // MARK: Tokens

    private func failure(_ code: NexmarkParseError.Code, expected: String, in field: StaticString, at position: Int) -> NexmarkParseError {
        NexmarkParseError(code, expected: expected, field: field, at: position, in: bytes)
    }

    /// Consumes `text` exactly; the error points at where `text` should start.
    private mutating func literal(_ text: StaticString, in field: StaticString) throws(NexmarkParseError) {
        let bytes = self.bytes
        let start = index
        // withUTF8Buffer rather than utf8Start: a one-character literal such as "}" may be
        // stored as a scalar, without a pointer to UTF-8 bytes.
        let matchedCount = text.withUTF8Buffer { expected -> Int? in
            guard bytes.count - start >= expected.count else { return nil }
            for offset in 0..<expected.count where bytes[start + offset] != expected[offset] {
                return nil
            }
            return expected.count
        }
        guard let matchedCount else {
            throw failure(.unexpectedText, expected: "`\(text)`", in: field, at: start)
        }
        index = start + matchedCount
    }

    private mutating func integer(after key: StaticString, in field: StaticString) throws(NexmarkParseError) -> Int64 {
        try literal(key, in: field)
        return try integer(in: field)
    }

    private mutating func string(after key: StaticString, in field: StaticString) throws(NexmarkParseError) -> String {
        try literal(key, in: field)
        return try string(in: field)
    }

    private mutating func timestamp(after key: StaticString, in field: StaticString) throws(NexmarkParseError) -> Duration {
        try literal(key, in: field)
        return try timestamp(in: field)
    }

    /// A JSON integer (`-?(0|[1-9][0-9]*)`) in the `Int64` range.
    private mutating func integer(in field: StaticString) throws(NexmarkParseError) -> Int64 {
        let start = index
        var position = start
        let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let firstDigit = position
        // The magnitude of Int64.min is one more than Int64.max.
        let largest: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        var magnitude: UInt64 = 0
        while position < bytes.count {
            let digit = bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (shifted, shiftOverflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, sumOverflow) = shifted.addingReportingOverflow(UInt64(digit))
            guard !shiftOverflow, !sumOverflow, sum <= largest else {
                throw failure(.invalidNumber, expected: "an integer from \(Int64.min) to \(Int64.max)", in: field, at: start)
            }
            magnitude = sum
            position += 1
        }
        guard position > firstDigit else {
            throw failure(.invalidNumber, expected: "an integer", in: field, at: start)
        }
        guard position - firstDigit == 1 || bytes[firstDigit] != UInt8(ascii: "0") else {
            throw failure(.invalidNumber, expected: "an integer without leading zeros", in: field, at: start)
        }
        if position < bytes.count {
            let next = bytes[position]
            if next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
                throw failure(.invalidNumber, expected: "an integer (no fraction or exponent)", in: field, at: position)
            }
        }
        index = position
        return negative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
    }

    /// A quoted string: decoded in one copy when it has no backslash, through ``unescapedString``
    /// otherwise.
    private mutating func string(in field: StaticString) throws(NexmarkParseError) -> String {
        let open = index
        guard open < bytes.count, bytes[open] == Self.quote else {
            throw failure(.invalidString, expected: "a string in double quotes", in: field, at: open)
        }
        let start = open + 1
        let special = Self.firstSpecialStringByte(in: bytes, from: start)
        guard special < bytes.count else {
            throw failure(.invalidString, expected: "a closing `\"` for the string that starts here", in: field, at: open)
        }
        let byte = bytes[special]
        if byte == Self.quote {
            guard let value = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<special]), as: UTF8.self) else {
                throw failure(.invalidString, expected: "a string of valid UTF-8", in: field, at: start)
            }
            index = special + 1
            return value
        }
        if byte == Self.backslash {
            let (value, closingQuote) = try unescapedString(from: start, firstEscape: special, in: field)
            index = closingQuote + 1
            return value
        }
        throw failure(.invalidString, expected: "no raw control characters in a string (escape them, e.g. `\\n`)", in: field, at: special)
    }

    /// Decodes the string whose content starts at `start` and holds a backslash at
    /// `firstEscape`; returns it with the index of its closing quote.
    private func unescapedString(
        from start: Int, firstEscape: Int, in field: StaticString
    ) throws(NexmarkParseError) -> (value: String, closingQuote: Int) {
        let bytes = self.bytes
        // Find the closing quote first, stepping over each escape pair so `\"` does not end the
        // string; this bounds the decode loop and sizes its buffer.
        var end = firstEscape
        while true {
            end = Self.firstSpecialStringByte(in: bytes, from: end)
            guard end < bytes.count else {
                throw failure(.invalidString, expected: "a closing `\"` for the string that starts here", in: field, at: start - 1)
            }
            let byte = bytes[end]
            if byte == Self.quote { break }
            guard byte == Self.backslash else {
                throw failure(.invalidString, expected: "no raw control characters in a string (escape them, e.g. `\\n`)", in: field, at: end)
            }
            end += 2
        }

        // Decoding never lengthens: an escape of 2 bytes gives 1, `\uXXXX` (6) at most 3 and a
        // surrogate pair (12) exactly 4, so `end - start` bytes always suffice.
        var problem: NexmarkParseError?
        let closingQuote = end
        let value = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: end - start) { output -> String? in
            var written = 0
            var position = start
            while position < closingQuote {
                let byte = bytes[position]
                guard byte == Self.backslash else {
                    output[written] = byte
                    written += 1
                    position += 1
                    continue
                }
                guard position + 1 < closingQuote else {
                    problem = NexmarkParseError(.invalidString, expected: "an escape after `\\`", field: field, at: position, in: bytes)
                    return nil
                }
                let decoded: UInt8
                switch bytes[position + 1] {
                case UInt8(ascii: "\""): decoded = 0x22
                case UInt8(ascii: "\\"): decoded = 0x5C
                case UInt8(ascii: "/"): decoded = 0x2F
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    switch Self.unicodeEscape(in: bytes, at: position, end: closingQuote) {
                    case .success(let decodedEscape):
                        written += Self.writeUTF8(decodedEscape.scalar, into: output, at: written)
                        position += decodedEscape.length
                        continue
                    case .failure(let expectation):
                        problem = NexmarkParseError(.invalidString, expected: expectation.text, field: field, at: position, in: bytes)
                        return nil
                    }
                default:
                    problem = NexmarkParseError(
                        .invalidString, expected: "one of the escapes `\\\"` `\\\\` `\\/` `\\b` `\\f` `\\n` `\\r` `\\t` `\\uXXXX`", field: field,
                        at: position, in: bytes)
                    return nil
                }
                output[written] = decoded
                written += 1
                position += 2
            }
            return String(validating: UnsafeBufferPointer(rebasing: output[0..<written]), as: UTF8.self)
        }
        if let problem { throw problem }
        guard let value else {
            throw failure(.invalidString, expected: "a string of valid UTF-8", in: field, at: start)
        }
        return (value, closingQuote)
    }

    /// Why a `\u` escape could not be decoded (a `Result` failure, so it can leave a closure).
    private struct EscapeExpectation: Error {
        let text: String
    }

    /// Decodes `\uXXXX`, or a surrogate pair `\uD8xx\uDCxx`, at `position` (the backslash).
    /// Returns the scalar and the bytes consumed; a lone surrogate is an error because a Swift
    /// `String` cannot hold one.
    private static func unicodeEscape(
        in bytes: UnsafeBufferPointer<UInt8>, at position: Int, end: Int
    ) -> Result<(scalar: UInt32, length: Int), EscapeExpectation> {
        guard let unit = hexQuad(in: bytes, at: position + 2, end: end) else {
            return .failure(EscapeExpectation(text: "four hex digits after `\\u`"))
        }
        switch unit {
        case 0xD800...0xDBFF:
            guard position + 12 <= end, bytes[position + 6] == backslash, bytes[position + 7] == UInt8(ascii: "u"),
                let low = hexQuad(in: bytes, at: position + 8, end: end), (0xDC00...0xDFFF).contains(low)
            else {
                return .failure(EscapeExpectation(text: "a low surrogate `\\uDC00`...`\\uDFFF` after the high surrogate"))
            }
            return .success((0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12))
        case 0xDC00...0xDFFF:
            return .failure(EscapeExpectation(text: "a high surrogate `\\uD800`...`\\uDBFF` before the low surrogate"))
        default:
            return .success((unit, 6))
        }
    }

    private static func hexQuad(in bytes: UnsafeBufferPointer<UInt8>, at position: Int, end: Int) -> UInt32? {
        guard position >= 0, end - position >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = (value << 4) | UInt32(digit)
        }
        return value
    }

    /// Writes a scalar (never a surrogate, at most 0x10FFFF) as UTF-8; returns the byte count.
    private static func writeUTF8(_ scalar: UInt32, into output: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        switch scalar {
        case 0..<0x80:
            output[offset] = UInt8(truncatingIfNeeded: scalar)
            return 1
        case 0x80..<0x800:
            output[offset] = UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6))
            output[offset + 1] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            return 2
        case 0x800..<0x10000:
            output[offset] = UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12))
            output[offset + 1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
            output[offset + 2] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            return 3
        default:
            output[offset] = UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18))
            output[offset + 1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F))
            output[offset + 2] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
            output[offset + 3] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
            return 4
        }
    }

    /// The index of the first `"`, `\` or control character (below 0x20) at or after `start`,
    /// or `bytes.count` (or `start`, if larger) when there is none.
    ///
    /// Strings such as `extra` run to hundreds of bytes, so eight bytes are tested at a time
    /// with the classic "has a zero byte" trick: `(w - 0x01…) & ~w & 0x80…` is non-zero exactly
    /// when some byte of `w` is zero, and `(w - 0x20…) & ~w & 0x80…` when some byte is below
    /// 0x20. A hit falls through to the byte loop, which finds the exact index.
    static func firstSpecialStringByte(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var position = start
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            let quotes: UInt64 = 0x2222_2222_2222_2222
            let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
            let spaces: UInt64 = 0x2020_2020_2020_2020
            while position >= 0, bytes.count - position >= 8 {
                let word = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                let quoteZeros = word ^ quotes
                let backslashZeros = word ^ backslashes
                let hasQuote = (quoteZeros &- ones) & ~quoteZeros
                let hasBackslash = (backslashZeros &- ones) & ~backslashZeros
                let hasControl = (word &- spaces) & ~word
                if (hasQuote | hasBackslash | hasControl) & highBits != 0 { break }
                position += 8
            }
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote || byte == backslash || byte < 0x20 { return position }
            position += 1
        }
        return max(position, bytes.count)
    }

    /// `"yyyy-MM-dd HH:mm:ss.SSS"` (UTC, proleptic Gregorian calendar) as milliseconds since 1970.
    private mutating func timestamp(in field: StaticString) throws(NexmarkParseError) -> Duration {
        let bytes = self.bytes
        let open = index
        let layout = "a timestamp `\"yyyy-MM-dd HH:mm:ss.SSS\"` (UTC, three fraction digits)"
        // "d" stands for any digit; every other byte must match itself.
        let shape: StaticString = "\"dddd-dd-dd dd:dd:dd.ddd\""
        let mismatch = shape.withUTF8Buffer { pattern -> Int? in
            for offset in 0..<pattern.count {
                let position = open + offset
                guard position < bytes.count else { return position }
                let byte = bytes[position]
                let fits = pattern[offset] == UInt8(ascii: "d") ? (byte &- UInt8(ascii: "0")) < 10 : byte == pattern[offset]
                if !fits { return position }
            }
            return nil
        }
        if let mismatch {
            throw failure(.invalidTimestamp, expected: layout, in: field, at: mismatch)
        }
        let first = open + 1
        func number(_ offset: Int, _ digits: Int) -> Int64 {
            var value: Int64 = 0
            for position in (first + offset)..<(first + offset + digits) {
                value = value * 10 + Int64(bytes[position] &- UInt8(ascii: "0"))
            }
            return value
        }
        let year = number(0, 4)
        let month = number(5, 2)
        let day = number(8, 2)
        let hour = number(11, 2)
        let minute = number(14, 2)
        let second = number(17, 2)
        let millisecond = number(20, 3)
        guard (1...12).contains(month) else {
            throw failure(.invalidTimestamp, expected: "a month from 01 to 12", in: field, at: first + 5)
        }
        guard day >= 1, day <= Self.daysInMonth(month, of: year) else {
            throw failure(.invalidTimestamp, expected: "a day that exists in that month", in: field, at: first + 8)
        }
        guard hour < 24 else {
            throw failure(.invalidTimestamp, expected: "an hour from 00 to 23", in: field, at: first + 11)
        }
        guard minute < 60 else {
            throw failure(.invalidTimestamp, expected: "a minute from 00 to 59", in: field, at: first + 14)
        }
        guard second < 60 else {
            throw failure(.invalidTimestamp, expected: "a second from 00 to 59", in: field, at: first + 17)
        }
        index = open + 25
        let secondOfDay = (hour * 60 + minute) * 60 + second
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        return .milliseconds(days * 86_400_000 + secondOfDay * 1000 + millisecond)
    }

    private static func daysInMonth(_ month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2:
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return leap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`):
    /// counting from March makes the leap day the last day of the year, so each 400-year era
    /// has a fixed shape.
    static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = (marchYear >= 0 ? marchYear : marchYear - 399) / 400
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
