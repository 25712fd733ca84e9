//! `--since` for the log viewers: how far back to start.
//!
//! Relative: a number of seconds (`90`) or a sum of amounts with units `s`, `m`, `h`, `d`, `w`
//! (`15m`, `1h30m`, `2d`). Absolute, in local time: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` (the
//! separator may also be `T` or `_`), or `HH:MM[:SS]` today. Or a TAI64N label `@4000...`.

use crate::localtime::Moment;
use chrono::{Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use formats::tai64n::Tai64n;

fn relative(spec: &str) -> Option<i64> {
    if spec.is_empty() {
        return None;
    }
    if spec.bytes().all(|c| c.is_ascii_digit()) {
        return spec.parse().ok();
    }
    let mut total: i64 = 0;
    let mut num: Option<i64> = None;
    for c in spec.bytes() {
        if c.is_ascii_digit() {
            let d = (c - b'0') as i64;
            num = Some(num.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
            continue;
        }
        let unit = match c {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            b'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(num.take()?.checked_mul(unit)?)?;
    }
    if num.is_some() {
        return None;
    }
    Some(total)
}

fn local(dt: NaiveDateTime) -> Option<Moment> {
    let t = Local.from_local_datetime(&dt).earliest()?;
    Some(Moment {
        secs: t.timestamp(),
        nanos: 0,
    })
}

fn time_of_day(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

/// The moment `spec` names, relative to `now`; `None` if it does not parse.
pub fn parse(spec: &str, now: Moment) -> Option<Moment> {
    let spec = spec.trim();
    if let Some(hex) = spec.strip_prefix('@') {
        let t = Tai64n::parse_hex(hex.as_bytes())?;
        return Some(Moment {
            secs: t.unix_secs(),
            nanos: t.nanos.min(999_999_999),
        });
    }
    if let Some(ago) = relative(spec) {
        return Some(Moment {
            secs: now.secs.checked_sub(ago)?,
            nanos: now.nanos,
        });
    }
    if let Some(t) = time_of_day(spec) {
        let today = Local.timestamp_opt(now.secs, 0).single()?.date_naive();
        return local(today.and_time(t));
    }
    if spec.len() >= 10 && spec.is_char_boundary(10) {
        let (date, rest) = spec.split_at(10);
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        if rest.is_empty() {
            return local(date.and_hms_opt(0, 0, 0)?);
        }
        let mut chars = rest.chars();
        if !matches!(chars.next(), Some(' ' | 'T' | '_')) {
            return None;
        }
        return local(date.and_time(time_of_day(chars.as_str())?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        std::env::set_var("TZ", "UTC");
        let now = Moment {
            secs: 1_795_372_941,
            nanos: 5,
        };
        let ago = |s: i64| {
            Some(Moment {
                secs: now.secs - s,
                nanos: 5,
            })
        };
        assert_eq!(parse("90", now), ago(90));
        assert_eq!(parse("15m", now), ago(900));
        assert_eq!(parse("1h30m", now), ago(5400));
        assert_eq!(parse("2d", now), ago(172_800));
        assert_eq!(parse("1w", now), ago(604_800));
        for bad in ["", "h", "1x", "1h30", "m5", "2026-13-01", "25:00", "1.5h"] {
            assert_eq!(parse(bad, now), None, "{bad}");
        }
        // 1795372941 is 2026-11-22 18:42:21 UTC.
        let at = |secs| Some(Moment { secs, nanos: 0 });
        assert_eq!(parse("2026-11-22", now), at(1_795_372_941 - 67_341));
        assert_eq!(parse("2026-11-22 18:42:21", now), at(1_795_372_941));
        assert_eq!(parse("2026-11-22T18:42", now), at(1_795_372_920));
        assert_eq!(parse("18:42", now), at(1_795_372_920));
        assert_eq!(
            parse("@400000006b0337972f6e0954", now),
            Some(Moment {
                secs: 1_795_372_941,
                nanos: 0x2f6e_0954
            })
        );
    }
}
