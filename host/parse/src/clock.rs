//! Dates: RFC 3339 timestamps for OCI annotations, and calendar days for
//! suppression expiry, through jiff. `KRIDIK_TODAY` (YYYY-MM-DD) fixes
//! "today", so expiry is testable and reproducible.

use jiff::civil::Date;
use jiff::{Span, Timestamp};

const EPOCH: Date = jiff::civil::date(1970, 1, 1);

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (the epoch itself for
/// seconds outside jiff's range, years -9999..=9999).
pub fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `YYYY-MM-DD` as days since the epoch; None for anything else, a date that
/// does not exist (2026-02-31) included.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let (y, m, d): (i16, i8, i8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    // Years before 1 are no date a person writes in a suppression.
    if y < 1 {
        return None;
    }
    let date = Date::new(y, m, d).ok()?;
    Some(i64::from(EPOCH.until(date).ok()?.get_days()))
}

/// Today (UTC) as days since the epoch, or `KRIDIK_TODAY` when set.
pub fn today() -> i64 {
    if let Some(days) = std::env::var("KRIDIK_TODAY")
        .ok()
        .and_then(|s| parse_date(&s))
    {
        return days;
    }
    Timestamp::now().as_second().div_euclid(86_400)
}

/// Days since the epoch as `YYYY-MM-DD`.
pub fn date(days: i64) -> String {
    EPOCH
        .checked_add(Span::new().days(days))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_398_245), "2026-11-23T01:44:05Z");
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400 / 86_400));
        assert_eq!(date(parse_date("2027-01-31").unwrap()), "2027-01-31");
        assert_eq!(parse_date("2026-02-31"), None);
        assert_eq!(parse_date("soon"), None);
    }
}
