//! Sign-in throttling by account and by client address, over a sliding window kept in Postgres
//! so that every replica of the server sees the same counts.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::state::AuthSettings;

/// Seconds until `failures` (newest first, all within the window) drop below `limit`.
pub fn seconds_until_allowed(
    failures_newest_first: &[DateTime<Utc>],
    limit: i64,
    window: std::time::Duration,
    now: DateTime<Utc>,
) -> Option<u64> {
    let index = usize::try_from(limit.max(1) - 1).ok()?;
    let oldest_counted = failures_newest_first.get(index)?;
    let window = chrono::Duration::from_std(window).ok()?;
    let wait = (*oldest_counted + window) - now;
    let millis = wait.num_milliseconds();
    (millis > 0).then(|| u64::try_from(millis).unwrap_or(0).div_ceil(1000))
}

async fn recent_failures(
    pool: &PgPool,
    settings: &AuthSettings,
    email: Option<&str>,
    address: Option<&str>,
    limit: i64,
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    let window_seconds = settings.login_window.as_secs_f64();
    sqlx::query_scalar!(
        "select created_at from login_failure
          where ($1::text is null or email = $1)
            and ($2::text is null or client_address = $2)
            and created_at > now() - make_interval(secs => $3)
          order by created_at desc
          limit $4",
        email,
        address,
        window_seconds,
        limit,
    )
    .fetch_all(pool)
    .await
}

/// Counts a sign-in attempt before its password is checked, so that attempts sent side by side
/// cannot all pass the limit before any of them is recorded. When the account or the address is
/// past its limit, the attempt is taken back and the answer is how long to wait; otherwise it
/// stays counted as a failure until `clear_account` forgives it on success.
pub async fn begin_attempt(
    pool: &PgPool,
    settings: &AuthSettings,
    email: &str,
    client_address: &str,
) -> Result<Option<u64>, sqlx::Error> {
    let attempt = sqlx::query_scalar!(
        "insert into login_failure (email, client_address) values ($1, $2)
         returning login_failure_id",
        email,
        client_address
    )
    .fetch_one(pool)
    .await?;
    let wait = retry_after(pool, settings, email, client_address).await?;
    if wait.is_some() {
        sqlx::query!(
            "delete from login_failure where login_failure_id = $1",
            attempt
        )
        .execute(pool)
        .await?;
    }
    Ok(wait)
}

/// How long this account or address must wait, counting the attempt just recorded: it may make
/// the limit, not pass it.
async fn retry_after(
    pool: &PgPool,
    settings: &AuthSettings,
    email: &str,
    client_address: &str,
) -> Result<Option<u64>, sqlx::Error> {
    let now = Utc::now();
    let per_account = settings.login_max_failures_per_account + 1;
    let per_address = settings.login_max_failures_per_address + 1;
    let by_account = recent_failures(pool, settings, Some(email), None, per_account).await?;
    let by_address =
        recent_failures(pool, settings, None, Some(client_address), per_address).await?;
    let account_wait = seconds_until_allowed(&by_account, per_account, settings.login_window, now);
    let address_wait = seconds_until_allowed(&by_address, per_address, settings.login_window, now);
    Ok(account_wait.max(address_wait))
}

/// A successful sign-in forgives the account's earlier failures (not the address's).
pub async fn clear_account(pool: &PgPool, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from login_failure where email = $1", email)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_expired(pool: &PgPool, settings: &AuthSettings) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "delete from login_failure where created_at <= now() - make_interval(secs => $1)",
        settings.login_window.as_secs_f64()
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + seconds, 0).expect("timestamp")
    }

    #[test]
    fn fewer_failures_than_the_limit_do_not_throttle() {
        let failures = [at(40), at(30), at(20), at(10)];
        assert_eq!(
            seconds_until_allowed(&failures, 5, Duration::from_secs(900), at(41)),
            None
        );
    }

    #[test]
    fn the_limit_reached_waits_until_the_oldest_counted_failure_leaves_the_window() {
        let failures = [at(50), at(40), at(30), at(20), at(10)];
        // The fifth newest failure, at 10 s, leaves the 900 s window at 910 s.
        assert_eq!(
            seconds_until_allowed(&failures, 5, Duration::from_secs(900), at(60)),
            Some(850)
        );
        assert_eq!(
            seconds_until_allowed(&failures, 5, Duration::from_secs(900), at(910)),
            None
        );
    }

    #[test]
    fn partial_seconds_round_up() {
        let failures = [at(0)];
        let now = at(0) + chrono::Duration::milliseconds(100);
        assert_eq!(
            seconds_until_allowed(&failures, 1, Duration::from_secs(10), now),
            Some(10)
        );
    }
}
