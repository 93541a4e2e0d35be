//! RFC 3339 timestamps, normalised the way sops (Go's `time`) prints them.
//!
//! The MAC hashes a `time` value as Go re-prints it, not as written, and the
//! MAC itself is bound to `lastmodified` re-printed without fractions; an
//! unencrypted YAML timestamp is hashed as a time too. So the exact text
//! matters, and this small parser and printer reproduce Go's forms:
//! `2024-01-01T00:00:00Z`, fractions without trailing zeros, `Z` for UTC.

/// The number of days in `month` (1 to 12) of `year`, leap years included.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A parsed timestamp, kept as its fields (no calendar arithmetic is needed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    date: (u32, u32, u32),
    time: (u32, u32, u32),
    /// Fractional seconds as written, trailing zeros removed.
    fraction: String,
    /// Offset from UTC in minutes.
    offset_minutes: i32,
}

impl Timestamp {
    /// Parses RFC 3339 and the YAML timestamp forms sops accepts (`2024-01-01`,
    /// a space instead of `T`, a missing zone meaning UTC).
    pub fn parse(text: &str) -> Option<Timestamp> {
        let mut cur = Cursor(text.as_bytes());
        let mut stamp = Timestamp::date(&mut cur)?;
        if cur.0.is_empty() {
            return Some(stamp);
        }
        match cur.next()? {
            b'T' | b't' | b' ' => {}
            _ => return None,
        }
        stamp.time = Timestamp::clock(&mut cur)?;
        if cur.0.first() == Some(&b'.') {
            cur.next();
            let len = cur.0.iter().take_while(|b| b.is_ascii_digit()).count();
            if len == 0 || len > 9 {
                return None;
            }
            let (frac, rest) = cur.0.split_at(len);
            stamp.fraction = String::from_utf8_lossy(frac)
                .trim_end_matches('0')
                .to_string();
            cur.0 = rest;
        }
        match cur.0 {
            [] | [b'Z'] | [b'z'] => {}
            [sign @ (b'+' | b'-'), ..] => {
                let negative = *sign == b'-';
                cur.next();
                let hours = cur.digits(2, 2)?;
                let minutes = if cur.0.is_empty() {
                    0
                } else {
                    cur.expect(b':')?;
                    cur.digits(2, 2)?
                };
                if !cur.0.is_empty() || hours > 23 || minutes > 59 {
                    return None;
                }
                let offset = i32::try_from(hours * 60 + minutes).ok()?;
                stamp.offset_minutes = if negative { -offset } else { offset };
            }
            _ => return None,
        }
        Some(stamp)
    }

    /// A plain YAML scalar that go-yaml v3 (and so sops) reads as a time:
    /// one of its four layouts, exactly — `2006-1-2T15:4:5.999999999Z07:00`
    /// (also with `t`), `2006-1-2 15:4:5.999999999` (UTC) and `2006-1-2`.
    /// Stricter than [`Timestamp::parse`] where Go is: an uppercase `Z` only,
    /// a zone only after `T`, an offset only as `±hh:mm`. As Go's parser,
    /// it takes a `,` before the fraction and keeps its first nine digits,
    /// several spaces for the one between date and time, and minute 60 in
    /// an offset.
    pub fn parse_yaml(text: &str) -> Option<Timestamp> {
        let mut cur = Cursor(text.as_bytes());
        let mut stamp = Timestamp::date(&mut cur)?;
        if cur.0.is_empty() {
            return Some(stamp);
        }
        let separator = cur.next()?;
        if !matches!(separator, b'T' | b't' | b' ') {
            return None;
        }
        // Go's parser lets a space of the layout match a run of spaces.
        while separator == b' ' && cur.0.first() == Some(&b' ') {
            cur.next();
        }
        stamp.time = Timestamp::clock(&mut cur)?;
        if let [b'.' | b',', b'0'..=b'9', ..] = cur.0 {
            cur.next();
            let len = cur.0.iter().take_while(|b| b.is_ascii_digit()).count();
            let (digits, rest) = cur.0.split_at(len);
            stamp.fraction = String::from_utf8_lossy(&digits[..len.min(9)])
                .trim_end_matches('0')
                .to_string();
            cur.0 = rest;
        }
        match (separator, cur.0) {
            (b' ', []) | (b'T' | b't', [b'Z']) => {}
            (b'T' | b't', [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2])
                if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) =>
            {
                let hours = u32::from((h1 - b'0') * 10 + (h2 - b'0'));
                let minutes = u32::from((m1 - b'0') * 10 + (m2 - b'0'));
                // As Go: `+05:60` is `+06:00`, `+24:00` no offset.
                if hours > 23 || minutes > 60 {
                    return None;
                }
                let offset = i32::try_from(hours * 60 + minutes).ok()?;
                stamp.offset_minutes = if *sign == b'-' { -offset } else { offset };
            }
            _ => return None,
        }
        Some(stamp)
    }

    /// The `YYYY-M-D` start both forms share, at midnight UTC.
    fn date(cur: &mut Cursor) -> Option<Timestamp> {
        let year = cur.digits(4, 4)?;
        cur.expect(b'-')?;
        let month = cur.digits(1, 2)?;
        cur.expect(b'-')?;
        let day = cur.digits(1, 2)?;
        // As Go's time.Parse: a day the month does not have (`2024-02-30`)
        // is no date, so YAML leaves such a scalar a string.
        if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
            return None;
        }
        Some(Timestamp {
            date: (year, month, day),
            time: (0, 0, 0),
            fraction: String::new(),
            offset_minutes: 0,
        })
    }

    /// The `h:m:s` after the date, each of one or two digits, in range.
    fn clock(cur: &mut Cursor) -> Option<(u32, u32, u32)> {
        let hour = cur.digits(1, 2)?;
        cur.expect(b':')?;
        let minute = cur.digits(1, 2)?;
        cur.expect(b':')?;
        let second = cur.digits(1, 2)?;
        (hour <= 23 && minute <= 59 && second <= 59).then_some((hour, minute, second))
    }

    /// Go's `RFC3339Nano` form (what `sops -d` prints for a time).
    pub fn to_rfc3339_nano(&self) -> String {
        self.format(true)
    }

    /// Go's `RFC3339` form, no fraction (the MAC's additional data).
    pub fn to_rfc3339(&self) -> String {
        self.format(false)
    }

    fn format(&self, with_fraction: bool) -> String {
        let (y, mo, d) = self.date;
        let (h, mi, s) = self.time;
        let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
        if with_fraction && !self.fraction.is_empty() {
            out.push('.');
            out.push_str(&self.fraction);
        }
        if self.offset_minutes == 0 {
            out.push('Z');
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let abs = self.offset_minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
        out
    }
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let len = self
            .0
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len < min {
            return None;
        }
        let (digits, rest) = self.0.split_at(len);
        self.0 = rest;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nano(text: &str) -> Option<String> {
        Timestamp::parse(text).map(|t| t.to_rfc3339_nano())
    }

    #[test]
    fn normalises_like_go() {
        assert_eq!(nano("2024-01-01").as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(
            nano("2024-03-04T05:06:07.500+02:00").as_deref(),
            Some("2024-03-04T05:06:07.5+02:00")
        );
        assert_eq!(
            nano("2024-03-04 05:06:07").as_deref(),
            Some("2024-03-04T05:06:07Z")
        );
        assert_eq!(
            nano("2024-03-04T05:06:07+00:00").as_deref(),
            Some("2024-03-04T05:06:07Z")
        );
        let t = Timestamp::parse("2026-11-28T17:34:32.123Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T17:34:32Z");
    }

    #[test]
    fn yaml_timestamps_are_go_yamls_layouts_exactly() {
        let yaml = |text: &str| Timestamp::parse_yaml(text).map(|t| t.to_rfc3339_nano());
        // Each checked against sops 3.11 decrypting the plain scalar.
        for (text, printed) in [
            ("2001-12-14", "2001-12-14T00:00:00Z"),
            ("2001-1-2", "2001-01-02T00:00:00Z"),
            ("2001-12-14 21:59:43", "2001-12-14T21:59:43Z"),
            ("2001-12-14T21:59:43.10Z", "2001-12-14T21:59:43.1Z"),
            ("2001-12-14t21:59:43Z", "2001-12-14T21:59:43Z"),
            ("2001-12-14T1:2:3-05:00", "2001-12-14T01:02:03-05:00"),
            ("2001-12-14T21:59:43,5Z", "2001-12-14T21:59:43.5Z"),
            (
                "2001-12-14T21:59:43.1234567891Z",
                "2001-12-14T21:59:43.123456789Z",
            ),
            ("2001-12-14 21:59:43.000", "2001-12-14T21:59:43Z"),
            ("2001-12-14   21:59:43.5", "2001-12-14T21:59:43.5Z"),
            ("2001-12-14T21:59:43+05:60", "2001-12-14T21:59:43+06:00"),
        ] {
            assert_eq!(yaml(text).as_deref(), Some(printed), "{text}");
        }
        for text in [
            "2001-12-14t21:59:43z",
            "2001-12-14 21:59:43Z",
            "2001-12-14T21:59:43",
            "2001-12-14T21:59:43+05",
            "2001-12-14T21:59",
            "2001-12-14T",
            "12001-12-14",
            "2001-02-30",
            "2001-12-14T24:00:00Z",
            "2001-12-14T21:59:43+24:00",
            "2001-12-14T21:59:43-05:61",
        ] {
            assert_eq!(yaml(text), None, "{text}");
        }
    }

    #[test]
    fn rejects_non_timestamps() {
        for text in [
            "",
            "2024",
            "2024-13-01",
            "hello",
            "2024-01-01T",
            "2024-01-01T10:00:00+5",
            "2024-01-01x",
            "2024-02-30",
            "2023-02-29",
            "1900-02-29",
            "2024-04-31",
            "2024-01-01T10:00:60Z",
        ] {
            assert!(Timestamp::parse(text).is_none(), "{text}");
        }
        for leap_day in ["2024-02-29", "2000-02-29"] {
            assert!(Timestamp::parse(leap_day).is_some(), "{leap_day}");
        }
    }
}
