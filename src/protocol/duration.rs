//! Durations as users write them in Kubernetes and Go tools (`90s`, `10m`, `1h30m`,
//! `250ms`), shared by the function config (step timeouts) and the runner's flags, so a value
//! the converter accepts is always one the runner reads.

use std::time::Duration;

const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// Reads a positive whole-number duration made of `h`, `m`, `s` and `ms` parts, largest
/// first (`1h30m`, `90s`, `250ms`); a bare number is seconds. `None` for anything else,
/// including zero, fractions, signs and values past 10 years.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let secs: u64 = text.parse().ok()?;
        return bounded(secs.checked_mul(1_000)?);
    }
    let mut rest = text;
    let mut total: u64 = 0;
    let mut last_unit = u64::MAX;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (_, per) = UNITS.iter().find(|(u, _)| *u == &rest[..letters])?;
        if *per >= last_unit {
            return None; // units repeat or go up: `30m1h`, `1s1s`
        }
        last_unit = *per;
        total = total.checked_add(n.checked_mul(*per)?)?;
        rest = &rest[letters..];
    }
    bounded(total)
}

fn bounded(millis: u64) -> Option<Duration> {
    const TEN_YEARS_MS: u64 = 10 * 366 * 24 * 3_600_000;
    (millis > 0 && millis <= TEN_YEARS_MS).then(|| Duration::from_millis(millis))
}

/// The shortest spelling [`parse_duration`] reads back as `d` (to the millisecond).
pub fn format_duration(d: Duration) -> String {
    let mut millis = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if millis == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, per) in UNITS {
        if millis >= per {
            out.push_str(&format!("{}{unit}", millis / per));
            millis %= per;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_users_write() {
        let s = Duration::from_secs;
        assert_eq!(parse_duration("90s"), Some(s(90)));
        assert_eq!(parse_duration("90"), Some(s(90)));
        assert_eq!(parse_duration("10m"), Some(s(600)));
        assert_eq!(parse_duration("1h30m"), Some(s(5400)));
        assert_eq!(parse_duration("1h0m5s"), Some(s(3605)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1s500ms"), Some(Duration::from_millis(1500)));
        for bad in [
            "",
            "0",
            "0s",
            "s",
            "1.5s",
            "-1s",
            "5 minutes",
            "30m1h",
            "1s1s",
            "1d",
            "99999999999h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for text in ["90s", "10m", "1h30m", "250ms", "1h0m5s", "2h", "1s500ms"] {
            let d = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(d)), Some(d), "{text}");
        }
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
    }
}
