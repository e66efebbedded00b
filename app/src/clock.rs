//! The one clock that every figure, window and demo reads ("this month", "the last 7 days", the
//! demo's three weeks of telemetry).
//!
//! `PARETO_NOW` (an RFC 3339 instant) moves it, so a person or a test can see Pareto as it would be
//! on another date (`make test PARETO_NOW=2027-01-01T00:30:00Z`); time still passes from there.
//! `PARETO_NOW_SINCE` (Unix seconds) says at which real moment the clock read `PARETO_NOW`, so that
//! several processes (the demo, a server, the tests) share one timeline; without it each process
//! starts from `PARETO_NOW` when it first asks.
//!
//! Sessions, sign-in throttling and token expiry keep real time: they measure how long ago
//! something really happened, next to timestamps that Postgres writes.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::OnceLock;

/// Where the clock stands now.
pub fn now() -> DateTime<Utc> {
    Utc::now() + offset()
}

/// How far `PARETO_NOW` moves the clock (zero when it is not set).
fn offset() -> TimeDelta {
    static OFFSET: OnceLock<TimeDelta> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let pinned = std::env::var("PARETO_NOW").ok();
        let since = std::env::var("PARETO_NOW_SINCE").ok();
        match moved(pinned.as_deref(), since.as_deref(), Utc::now()) {
            Ok(offset) => offset,
            Err(problem) => {
                // A clock that silently stayed put would hide the very thing it is set for.
                eprintln!("error: {problem}");
                std::process::exit(2);
            }
        }
    })
}

/// The offset that makes the clock read `pinned` at the real moment `since` (or at `real_now`).
fn moved(
    pinned: Option<&str>,
    since: Option<&str>,
    real_now: DateTime<Utc>,
) -> Result<TimeDelta, String> {
    let Some(pinned) = pinned.filter(|p| !p.trim().is_empty()) else {
        return Ok(TimeDelta::zero());
    };
    let pinned = DateTime::parse_from_rfc3339(pinned.trim())
        .map_err(|e| format!("PARETO_NOW={pinned:?} is not an RFC 3339 instant ({e})"))?
        .with_timezone(&Utc);
    let anchor = match since.filter(|s| !s.trim().is_empty()) {
        None => real_now,
        Some(seconds) => seconds
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .ok_or_else(|| {
                format!("PARETO_NOW_SINCE={seconds:?} is not a count of Unix seconds")
            })?,
    };
    Ok(pinned - anchor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    #[test]
    fn unset_means_real_time() {
        assert_eq!(moved(None, None, Utc::now()), Ok(TimeDelta::zero()));
        assert_eq!(
            moved(Some(" "), Some("5"), Utc::now()),
            Ok(TimeDelta::zero())
        );
    }

    #[test]
    fn pinned_from_the_first_question_or_from_a_shared_moment() {
        let real = at("2026-12-02T10:00:00Z");
        let offset = moved(Some("2027-03-31T23:50:00Z"), None, real).expect("valid");
        assert_eq!(real + offset, at("2027-03-31T23:50:00Z"));
        // Ten minutes after the shared moment, every process reads ten minutes past the pin.
        let since = at("2026-12-02T09:50:00Z").timestamp().to_string();
        let offset = moved(Some("2027-03-31T23:50:00Z"), Some(&since), real).expect("valid");
        assert_eq!(real + offset, at("2027-04-01T00:00:00Z"));
    }

    #[test]
    fn a_wrong_setting_is_named() {
        let problem = moved(Some("next monday"), None, Utc::now()).expect_err("refused");
        assert!(
            problem.starts_with("PARETO_NOW=\"next monday\""),
            "{problem}"
        );
        let problem = moved(Some("2027-01-01T00:00:00Z"), Some("yesterday"), Utc::now())
            .expect_err("refused");
        assert!(problem.starts_with("PARETO_NOW_SINCE"), "{problem}");
    }
}
