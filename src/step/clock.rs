//! Time, behind a trait so records can be tested with fixed timestamps, and the RFC 3339
//! spelling used in records (microseconds, so step-to-step gaps can be measured from them).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the runner gets "now" from; a trait so tests can pin it.
pub trait Clock {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Formats `t` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC). Times before 1970 are clamped to the
/// epoch: they cannot occur on a node with a sane clock and are not worth a sign. Past the
/// year 9999 the year simply gets more digits (ISO 8601's expanded form), so that whatever
/// the clock says is written in a form [`parse_rfc3339`] reads back exactly.
pub fn format_rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86_400) as i64);
    let sod = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        d.subsec_micros()
    )
}

/// Reads what [`format_rfc3339`] writes (a year of four or more digits), plus the
/// second-precision form Kubernetes uses. `None` for anything else, or a time that
/// `SystemTime` cannot hold.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let year_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if !(4..=12).contains(&year_len) {
        return None;
    }
    let y: i64 = s[..year_len].parse().ok()?;
    let s = &s[year_len..];
    let b = s.as_bytes();
    if b.len() < 16 || b[0] != b'-' || b[3] != b'-' || b[6] != b'T' || b[9] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (mo, d) = (num(1..3)?, num(4..6)?);
    let (h, mi, sec) = (num(7..9)?, num(10..12)?, num(13..15)?);
    if b[12] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
        return None;
    }
    let rest = &s[15..];
    let (frac, tail) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return None;
            }
            let nanos: u64 = r[..n].parse().ok()?;
            (nanos * 10u64.pow(9 - n as u32), &r[n..])
        }
        None => (0, rest),
    };
    if tail != "Z" || sec > 60 {
        return None;
    }
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = u64::try_from(days)
        .ok()?
        .checked_mul(86_400)?
        .checked_add(h * 3600 + mi * 60 + sec)?;
    UNIX_EPOCH.checked_add(Duration::new(secs, frac as u32))
}

// Howard Hinnant's civil-calendar algorithms (public domain descriptions).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u64;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe as i64 + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u64;
    let mp = u64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + u64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i64 - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::new(951_782_400 + 3661, 123_456_789);
        assert_eq!(format_rfc3339(t), "2000-02-29T01:01:01.123456Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_599);
        assert_eq!(format_rfc3339(t), "2025-12-31T23:59:59.000000Z");
    }

    #[test]
    fn parse_inverts_format() {
        for secs in [0u64, 951_782_400, 1_700_000_000, 4_102_444_800] {
            let t = UNIX_EPOCH + Duration::new(secs, 654_321_000);
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2000-02-29T01:01:01Z"),
            Some(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661))
        );
    }

    #[test]
    fn times_past_the_year_9999_round_trip() {
        // 10000-01-01T00:00:00Z, the first instant RFC 3339's four digits cannot spell.
        let y10k = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(format_rfc3339(y10k), "10000-01-01T00:00:00.000000Z");
        for secs in [
            253_402_300_799u64,
            253_402_300_800,
            9_000_000_000_000,
            1 << 40,
        ] {
            let t = UNIX_EPOCH + Duration::new(secs, 123_456_000);
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t), "{secs}");
        }
    }

    #[test]
    fn parse_rejects_garbage() {
        for bad in [
            "",
            "2000-02-29",
            "2000-02-29T01:01:01",
            "2000-13-01T00:00:00Z",
            "x000-01-01T00:00:00Z",
            "2000-01-01T00:00:00.Z",
            "2000-01-01T00:00:00+01:00",
            "200-01-01T00:00:00Z",
            "-2000-01-01T00:00:00Z",
            "999999999999999-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
