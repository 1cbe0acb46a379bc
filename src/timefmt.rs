//! Time formatting for API JSON and the HTTP `Date` header.
//!
//! Owns the conversion from Unix time to the proleptic Gregorian calendar in UTC
//! (Howard Hinnant's `civil_from_days`, no calendar crate) and two fixed formats:
//! - [`iso8601_utc`]: `2026-12-04T21:10:36.123Z`, always 24 bytes.
//! - [`http_date`]: IMF-fixdate (RFC 9110 §5.6.7), `Fri, 04 Dec 2026 21:10:36 GMT`, always 29 bytes.
//!
//! Invariant: both functions are total. Instants after 9999-12-31T23:59:59.999Z, which a
//! four-digit year cannot express, are clamped to that instant rather than producing a longer
//! or malformed string. Leap seconds do not exist in Unix time and are not represented.

/// Last millisecond with a four-digit year: 9999-12-31T23:59:59.999Z.
const MAX_UNIX_MS: u64 = 253_402_300_799_999;
/// Last second with a four-digit year: 9999-12-31T23:59:59Z.
const MAX_UNIX_SECS: u64 = MAX_UNIX_MS / 1000;

const SECS_PER_DAY: u64 = 86_400;

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: u32,
    month: u32, // 1..=12
    day: u32,   // 1..=31
    hour: u32,
    minute: u32,
    second: u32,
    weekday: u32, // 0 = Sunday
}

/// Converts days since 1970-01-01 to (year, month, day). Valid for all `days` >= 0 used here.
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + u64::from(month <= 2);
    // Callers clamp to year 9999, so these narrowings are lossless.
    (year as u32, month as u32, day as u32)
}

fn civil(unix_secs: u64) -> Civil {
    let secs = unix_secs.min(MAX_UNIX_SECS);
    let days = secs / SECS_PER_DAY;
    let sod = (secs % SECS_PER_DAY) as u32;
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: sod / 3_600,
        minute: sod / 60 % 60,
        second: sod % 60,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4) % 7) as u32,
    }
}

/// ISO 8601 UTC with milliseconds: "2026-12-04T21:10:36.123Z". Hand-rolled civil-from-days (no chrono).
pub fn iso8601_utc(unix_ms: u64) -> String {
    let ms = unix_ms.min(MAX_UNIX_MS);
    let c = civil(ms / 1000);
    let mut buf = [0u8; 24];
    put4(&mut buf[0..4], c.year);
    buf[4] = b'-';
    put2(&mut buf[5..7], c.month);
    buf[7] = b'-';
    put2(&mut buf[8..10], c.day);
    buf[10] = b'T';
    put_hms(&mut buf[11..19], &c);
    buf[19] = b'.';
    let frac = (ms % 1000) as u32;
    buf[20] = digit(frac / 100);
    put2(&mut buf[21..23], frac % 100);
    buf[23] = b'Z';
    buf.iter().map(|&b| char::from(b)).collect()
}

/// IMF-fixdate for the HTTP Date header: "Fri, 04 Dec 2026 21:10:36 GMT" (exactly 29 bytes).
pub fn http_date(unix_secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let c = civil(unix_secs);
    let mut buf = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    buf[0..3].copy_from_slice(DAYS[c.weekday as usize % 7]);
    put2(&mut buf[5..7], c.day);
    buf[8..11].copy_from_slice(MONTHS[(c.month as usize + 11) % 12]);
    put4(&mut buf[12..16], c.year);
    put_hms(&mut buf[17..25], &c);
    buf
}

fn digit(n: u32) -> u8 {
    b'0' + (n % 10) as u8
}

fn put2(out: &mut [u8], n: u32) {
    out[0] = digit(n / 10);
    out[1] = digit(n);
}

fn put4(out: &mut [u8], n: u32) {
    out[0] = digit(n / 1000);
    out[1] = digit(n / 100);
    out[2] = digit(n / 10);
    out[3] = digit(n);
}

/// Writes `HH:MM:SS` into an 8-byte slice.
fn put_hms(out: &mut [u8], c: &Civil) {
    put2(&mut out[0..2], c.hour);
    out[2] = b':';
    put2(&mut out[3..5], c.minute);
    out[5] = b':';
    put2(&mut out[6..8], c.second);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (unix ms, ISO 8601, IMF-fixdate of the whole second), computed with Python's `datetime`
    /// and `email.utils.formatdate(usegmt=True)`; several checked against `date -u -d @SECS`.
    const REFERENCE: &[(u64, &str, &str)] = &[
        (
            0,
            "1970-01-01T00:00:00.000Z",
            "Thu, 01 Jan 1970 00:00:00 GMT",
        ),
        (
            999,
            "1970-01-01T00:00:00.999Z",
            "Thu, 01 Jan 1970 00:00:00 GMT",
        ),
        (
            86399999,
            "1970-01-01T23:59:59.999Z",
            "Thu, 01 Jan 1970 23:59:59 GMT",
        ),
        (
            951782400000,
            "2000-02-29T00:00:00.000Z",
            "Tue, 29 Feb 2000 00:00:00 GMT",
        ),
        (
            951868799999,
            "2000-02-29T23:59:59.999Z",
            "Tue, 29 Feb 2000 23:59:59 GMT",
        ),
        (
            1709164800000,
            "2024-02-29T00:00:00.000Z",
            "Thu, 29 Feb 2024 00:00:00 GMT",
        ),
        (
            1709251199999,
            "2024-02-29T23:59:59.999Z",
            "Thu, 29 Feb 2024 23:59:59 GMT",
        ),
        (
            1796418636123,
            "2026-12-04T21:10:36.123Z",
            "Fri, 04 Dec 2026 21:10:36 GMT",
        ),
        (
            2147483647000,
            "2038-01-19T03:14:07.000Z",
            "Tue, 19 Jan 2038 03:14:07 GMT",
        ),
        (
            2147483648000,
            "2038-01-19T03:14:08.000Z",
            "Tue, 19 Jan 2038 03:14:08 GMT",
        ),
        (
            4107456000000,
            "2100-02-28T00:00:00.000Z",
            "Sun, 28 Feb 2100 00:00:00 GMT",
        ),
        (
            4107542399999,
            "2100-02-28T23:59:59.999Z",
            "Sun, 28 Feb 2100 23:59:59 GMT",
        ),
        (
            4102444800000,
            "2100-01-01T00:00:00.000Z",
            "Fri, 01 Jan 2100 00:00:00 GMT",
        ),
        (
            978307199999,
            "2000-12-31T23:59:59.999Z",
            "Sun, 31 Dec 2000 23:59:59 GMT",
        ),
        (
            1234567890123,
            "2009-02-13T23:31:30.123Z",
            "Fri, 13 Feb 2009 23:31:30 GMT",
        ),
        (
            253402300799999,
            "9999-12-31T23:59:59.999Z",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ),
        (
            111132926676279,
            "5491-08-30T17:24:36.279Z",
            "Sun, 30 Aug 5491 17:24:36 GMT",
        ),
        (
            13592072266832,
            "2400-09-18T15:37:46.832Z",
            "Mon, 18 Sep 2400 15:37:46 GMT",
        ),
        (
            231168335884083,
            "9295-06-07T10:38:04.083Z",
            "Tue, 07 Jun 9295 10:38:04 GMT",
        ),
        (
            26493659877419,
            "2809-07-20T13:57:57.419Z",
            "Mon, 20 Jul 2809 13:57:57 GMT",
        ),
        (
            164039256558072,
            "7168-03-13T12:09:18.072Z",
            "Wed, 13 Mar 7168 12:09:18 GMT",
        ),
        (
            60432369274613,
            "3885-01-09T17:14:34.613Z",
            "Fri, 09 Jan 3885 17:14:34 GMT",
        ),
        (
            24189416853720,
            "2736-07-14T02:27:33.720Z",
            "Tue, 14 Jul 2736 02:27:33 GMT",
        ),
        (
            117705441240922,
            "5699-12-08T11:54:00.922Z",
            "Tue, 08 Dec 5699 11:54:00 GMT",
        ),
    ];

    #[test]
    fn matches_reference_table() {
        for &(ms, iso, imf) in REFERENCE {
            assert_eq!(iso8601_utc(ms), iso, "iso8601_utc({ms})");
            assert_eq!(
                &http_date(ms / 1000),
                imf.as_bytes(),
                "http_date({})",
                ms / 1000
            );
        }
    }

    #[test]
    fn epoch() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(&http_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn leap_day_2024() {
        // 2024-02-29T00:00:00Z = 1709164800 (`date -u -d @1709164800`).
        assert_eq!(iso8601_utc(1_709_164_800_000), "2024-02-29T00:00:00.000Z");
        assert_eq!(iso8601_utc(1_709_251_200_000), "2024-03-01T00:00:00.000Z");
        assert_eq!(iso8601_utc(1_709_164_799_999), "2024-02-28T23:59:59.999Z");
        assert_eq!(&http_date(1_709_164_800), b"Thu, 29 Feb 2024 00:00:00 GMT");
    }

    #[test]
    fn known_instant() {
        // `date -u -d @1796418636` -> Fri Dec  4 21:10:36 UTC 2026
        assert_eq!(iso8601_utc(1_796_418_636_123), "2026-12-04T21:10:36.123Z");
        assert_eq!(&http_date(1_796_418_636), b"Fri, 04 Dec 2026 21:10:36 GMT");
    }

    #[test]
    fn century_rules() {
        // 1900-style non-leap century after the epoch: 2100 has no Feb 29.
        assert_eq!(iso8601_utc(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        // 400-year rule: 2000 is leap.
        assert_eq!(iso8601_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn every_day_is_consecutive() {
        // Walk day by day across several leap cycles: dates must advance by exactly one day
        // and weekdays must cycle.
        let mut prev = civil(0);
        for day in 1..(366 * 450) {
            let c = civil(day * SECS_PER_DAY);
            assert_eq!(c.weekday, (prev.weekday + 1) % 7);
            let next_day = (c.year, c.month, c.day);
            let expected = if prev.day < days_in_month(prev.year, prev.month) {
                (prev.year, prev.month, prev.day + 1)
            } else if prev.month < 12 {
                (prev.year, prev.month + 1, 1)
            } else {
                (prev.year + 1, 1, 1)
            };
            assert_eq!(next_day, expected, "day {day}");
            prev = c;
        }
    }

    fn days_in_month(y: u32, m: u32) -> u32 {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    #[test]
    fn clamps_beyond_year_9999() {
        assert_eq!(iso8601_utc(MAX_UNIX_MS + 1), "9999-12-31T23:59:59.999Z");
        assert_eq!(iso8601_utc(u64::MAX), "9999-12-31T23:59:59.999Z");
        assert_eq!(&http_date(u64::MAX), b"Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(
            &http_date(MAX_UNIX_SECS + 1),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
    }

    #[test]
    fn fixed_lengths() {
        for ms in [0, 1, 59_999, 1_796_418_636_123, MAX_UNIX_MS, u64::MAX] {
            assert_eq!(iso8601_utc(ms).len(), 24);
            assert_eq!(http_date(ms / 1000).len(), 29);
        }
    }
}
