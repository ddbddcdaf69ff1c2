/// A TOML date and/or time (TOML 1.0.0 "Offset Date-Time", "Local Date-Time", "Local Date",
/// "Local Time"; RFC 3339 §5.6), as components and as the text it was written as.
///
/// ```toml
/// odt = 1979-05-27T07:32:00.999-07:00   # date, time and offset
/// ldt = 1979-05-27 07:32:00            # date and time
/// ld  = 1979-05-27                     # date
/// lt  = 07:32:00.5                     # time
/// ```
public struct TOMLDateTime: Sendable, Hashable, CustomStringConvertible {
    public struct Date: Sendable, Hashable {
        public var year: Int
        /// 1 to 12.
        public var month: Int
        /// 1 to the length of the month.
        public var day: Int
    }

    public struct Time: Sendable, Hashable {
        /// 0 to 23.
        public var hour: Int
        public var minute: Int
        /// 0 to 59, or 60 for a leap second (RFC 3339 §5.6).
        public var second: Int
        /// The fraction of the second in nanoseconds; digits past the ninth are dropped.
        public var nanosecond: Int
    }

    public enum Kind: Sendable, Hashable {
        case offsetDateTime, localDateTime, localDate, localTime
    }

    public var date: Date?
    public var time: Time?
    /// Minutes east of UTC (`Z` is 0); nil for the local kinds.
    public var offsetMinutes: Int?
    /// The text as written in the document.
    public var text: String

    public var kind: Kind {
        switch (date, time, offsetMinutes) {
        case (_?, _?, _?): .offsetDateTime
        case (_?, _?, nil): .localDateTime
        case (_?, nil, _): .localDate
        default: .localTime
        }
    }

    public var description: String { text }

    /// The value in the RFC 3339 form with `T`, upper-case `Z` for a zero offset, and the
    /// fraction without trailing zeros: two values that mean the same read the same.
    public var normalized: String {
        func two(_ number: Int) -> String { number < 10 ? "0\(number)" : "\(number)" }
        var out = ""
        if let date {
            let year = String(date.year)
            out += String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(date.month) + "-" + two(date.day)
        }
        if let time {
            if date != nil { out += "T" }
            out += two(time.hour) + ":" + two(time.minute) + ":" + two(time.second)
            if time.nanosecond > 0 {
                var digits = String(time.nanosecond)
                digits = String(repeating: "0", count: 9 - digits.count) + digits
                while digits.hasSuffix("0") { digits.removeLast() }
                out += "." + digits
            }
        }
        if let offsetMinutes {
            if offsetMinutes == 0 {
                out += "Z"
            } else {
                let size = abs(offsetMinutes)
                out += (offsetMinutes < 0 ? "-" : "+") + two(size / 60) + ":" + two(size % 60)
            }
        }
        return out
    }

    static func isLeapYear(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
