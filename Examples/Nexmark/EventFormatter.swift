/// Writes Nexmark values the way the queries' expected output does.
public enum EventFormatter {
    /// `time`, a `Duration` since 1970-01-01 00:00:00 UTC, as `yyyy-MM-dd HH:mm:ss.SSS` in UTC
    /// (proleptic Gregorian calendar, always three fraction digits), the inverse of the
    /// timestamps ``EventParser`` reads: `.milliseconds(1_436_918_400_509)` is
    /// `2015-07-15 00:00:00.509`.
    ///
    /// Times before 1970 are exact too (`.milliseconds(-1)` is `1969-12-31 23:59:59.999`): a
    /// part finer than a millisecond is rounded down, toward the past, so a time never prints
    /// as a later millisecond than it is. A year outside 0000...9999 is written with as many
    /// digits as it needs, after a `-` when negative. Never fails.
    public static func timestamp(_ time: Duration) -> String {
        let (seconds, attoseconds) = time.components
        // Make the fraction non-negative whatever sign convention `components` uses, so the
        // division below rounds toward the past rather than toward zero.
        var wholeSeconds = seconds
        var fraction = attoseconds
        if fraction < 0 {
            wholeSeconds = wholeSeconds &- 1
            fraction += 1_000_000_000_000_000_000
        }
        let millisecond = fraction / 1_000_000_000_000_000
        var days = wholeSeconds / 86_400
        var secondOfDay = wholeSeconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        let date = civilDate(daysSinceEpoch: days)
        // 12 year digits (the most an Int64 of seconds reaches), a sign and 19 other bytes.
        return String(unsafeUninitializedCapacity: 40) { output in
            var count = 0
            if date.year < 0 {
                output[count] = UInt8(ascii: "-")
                count += 1
            }
            write(date.year < 0 ? 0 - date.year : date.year, width: 4, into: output, at: &count)
            write(separator: "-", into: output, at: &count)
            write(date.month, width: 2, into: output, at: &count)
            write(separator: "-", into: output, at: &count)
            write(date.day, width: 2, into: output, at: &count)
            write(separator: " ", into: output, at: &count)
            write(secondOfDay / 3600, width: 2, into: output, at: &count)
            write(separator: ":", into: output, at: &count)
            write(secondOfDay / 60 % 60, width: 2, into: output, at: &count)
            write(separator: ":", into: output, at: &count)
            write(secondOfDay % 60, width: 2, into: output, at: &count)
            write(separator: ".", into: output, at: &count)
            write(millisecond, width: 3, into: output, at: &count)
            return count
        }
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`): years are counted from March so the leap day ends the year, and
    /// each 400-year era of 146,097 days has the same shape.
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Writes a non-negative `value` in decimal, zero-padded to at least `width` digits.
    private static func write(_ value: Int64, width: Int, into output: UnsafeMutableBufferPointer<UInt8>, at count: inout Int) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let length = max(width, digits)
        rest = value
        var position = count + length - 1
        while position >= count {
            output[position] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
            position -= 1
        }
        count += length
    }

    private static func write(separator: Unicode.Scalar, into output: UnsafeMutableBufferPointer<UInt8>, at count: inout Int) {
        output[count] = UInt8(ascii: separator)
        count += 1
    }
}
