/// Dates and times (TOML 1.0.0 "Offset Date-Time" to "Local Time", after RFC 3339 §5.6):
/// `1979-05-27T07:32:00.999-07:00`, `1979-05-27 07:32:00`, `1979-05-27`, `07:32:00`. Each
/// field has its fixed number of digits and its range; the day must exist in its month.
extension TOMLParser {
    mutating func parseDateTime() throws(TOMLSyntaxError) -> TOMLDateTime {
        let start = index
        var value = TOMLDateTime(date: nil, time: nil, offsetMinutes: nil, text: "")
        if peek(4) == UInt8(ascii: "-") {
            let date = try parseDate()
            value.date = date
            if let separator = peek,
               separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t")
                || (separator == Self.space && peek(1).map(Self.isDecimalDigit) == true) {
                index += 1
                value.time = try parseTime()
                value.offsetMinutes = try parseOffset()
            }
        } else {
            value.time = try parseTime()
        }
        if let next = peek, Self.isBareKeyByte(next) || next == UInt8(ascii: ".") || next == UInt8(ascii: ":") || next == UInt8(ascii: "+") {
            throw failure("a date or time must end here, \(found)")
        }
        value.text = String(decoding: bytes[start..<index], as: UTF8.self)
        return value
    }

    private mutating func parseDate() throws(TOMLSyntaxError) -> TOMLDateTime.Date {
        let start = index
        let year = try fixedDigits(4, "the year")
        try expect(UInt8(ascii: "-"), "between the year and the month")
        let month = try fixedDigits(2, "the month")
        try expect(UInt8(ascii: "-"), "between the month and the day")
        let day = try fixedDigits(2, "the day")
        guard (1...12).contains(month) else { throw failure("month \(month) does not exist; months are 01 to 12", at: start + 5) }
        let days = TOMLDateTime.daysIn(month: month, year: year)
        guard (1...days).contains(day) else {
            throw failure("day \(day) does not exist in month \(month) of \(year), which has \(days) days", at: start + 8)
        }
        return TOMLDateTime.Date(year: year, month: month, day: day)
    }

    private mutating func parseTime() throws(TOMLSyntaxError) -> TOMLDateTime.Time {
        let start = index
        let hour = try fixedDigits(2, "the hour")
        try expect(UInt8(ascii: ":"), "between the hour and the minute")
        let minute = try fixedDigits(2, "the minute")
        try expect(UInt8(ascii: ":"), "between the minute and the second (seconds are required)")
        let second = try fixedDigits(2, "the second")
        guard hour <= 23 else { throw failure("hour \(hour) does not exist; hours are 00 to 23", at: start) }
        guard minute <= 59 else { throw failure("minute \(minute) does not exist; minutes are 00 to 59", at: start + 3) }
        guard second <= 60 else { throw failure("second \(second) does not exist; seconds are 00 to 60 (a leap second)", at: start + 6) }
        var nanosecond = 0
        if peek == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while let byte = peek, Self.isDecimalDigit(byte) {
                if count < 9 { nanosecond = nanosecond * 10 + Int(byte - UInt8(ascii: "0")) }
                count += 1
                index += 1
            }
            guard count > 0 else { throw failure("expected digits of the fraction of a second after '.', \(found)") }
            for _ in min(count, 9)..<9 { nanosecond *= 10 }
        }
        return TOMLDateTime.Time(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
    }

    /// `Z`, `z`, `+hh:mm` or `-hh:mm` in minutes; nil when there is none (a local date-time).
    private mutating func parseOffset() throws(TOMLSyntaxError) -> Int? {
        switch peek {
        case UInt8(ascii: "Z")?, UInt8(ascii: "z")?:
            index += 1
            return 0
        case let sign? where sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"):
            let start = index
            index += 1
            let hours = try fixedDigits(2, "the hours of the offset")
            try expect(UInt8(ascii: ":"), "between the hours and minutes of the offset")
            let minutes = try fixedDigits(2, "the minutes of the offset")
            guard hours <= 23, minutes <= 59 else { throw failure("the offset is out of range (at most 23:59)", at: start) }
            return (hours * 60 + minutes) * (sign == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
    }

    private mutating func fixedDigits(_ count: Int, _ what: String) throws(TOMLSyntaxError) -> Int {
        var value = 0
        for _ in 0..<count {
            guard let byte = peek, Self.isDecimalDigit(byte) else {
                throw failure("expected \(count) digits for \(what), \(found)")
            }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        return value
    }

    private mutating func expect(_ byte: UInt8, _ where: String) throws(TOMLSyntaxError) {
        guard peek == byte else { throw failure("expected '\(Character(UnicodeScalar(byte)))' \(`where`), \(found)") }
        index += 1
    }

    static func isDecimalDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
