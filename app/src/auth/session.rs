//! Server-side sessions: a random id in an `HttpOnly` cookie, its SHA-256 in Postgres.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::secret::{random_token, sha256, SESSION_PREFIX};
use super::{CurrentUser, Role};
use crate::state::AuthSettings;

pub const COOKIE_NAME: &str = "pareto_session";

/// A session found from its cookie, with the person it belongs to.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub session_hash: Vec<u8>,
    pub user: CurrentUser,
}

fn interval(duration: std::time::Duration) -> sqlx::postgres::types::PgInterval {
    sqlx::postgres::types::PgInterval {
        months: 0,
        days: 0,
        microseconds: i64::try_from(duration.as_micros()).unwrap_or(i64::MAX),
    }
}

/// Starts a session for `user_id` and returns the cookie value (the only copy of the id).
pub async fn create(
    pool: &PgPool,
    settings: &AuthSettings,
    user_id: Uuid,
    user_agent: &str,
    client_address: &str,
) -> Result<String, sqlx::Error> {
    let id = random_token(SESSION_PREFIX);
    let user_agent: String = user_agent.chars().take(300).collect();
    sqlx::query!(
        "insert into session (session_hash, user_id, expires_at, user_agent, client_address)
         values ($1, $2, now() + $3, $4, $5)",
        sha256(&id),
        user_id,
        interval(settings.session_max_age),
        user_agent,
        client_address,
    )
    .execute(pool)
    .await?;
    Ok(id)
}

/// Finds the live session for a cookie value and marks it used. Expired sessions are deleted.
pub async fn resolve(
    pool: &PgPool,
    settings: &AuthSettings,
    cookie_value: &str,
) -> Result<Option<ActiveSession>, sqlx::Error> {
    let session_hash = sha256(cookie_value);
    let row = sqlx::query!(
        r#"select s.last_seen_at, s.expires_at,
                  u.user_id, u.email, u.display_name, u.role as "role: Role", u.disabled_at
             from session s join app_user u using (user_id)
            where s.session_hash = $1"#,
        &session_hash,
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let now = Utc::now();
    let idle_limit =
        chrono::Duration::from_std(settings.session_idle_timeout).unwrap_or(chrono::Duration::MAX);
    let expired = row.expires_at <= now || row.last_seen_at + idle_limit <= now;
    if expired || row.disabled_at.is_some() {
        delete(pool, &session_hash).await?;
        return Ok(None);
    }
    touch(pool, &session_hash, row.last_seen_at, now).await?;
    Ok(Some(ActiveSession {
        session_hash,
        user: CurrentUser {
            user_id: row.user_id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
        },
    }))
}

/// Records activity at most once a minute, so that reading pages does not write on every request.
async fn touch(
    pool: &PgPool,
    session_hash: &[u8],
    last_seen_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if now - last_seen_at >= chrono::Duration::seconds(60) {
        sqlx::query!(
            "update session set last_seen_at = now() where session_hash = $1",
            session_hash
        )
        .execute(pool)
        .await?;
    }
    Ok(())
}

pub async fn delete(pool: &PgPool, session_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from session where session_hash = $1", session_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Ends every session of a person (after a password change, a role change or disabling).
pub async fn delete_all_for_user(
    executor: impl sqlx::PgExecutor<'_>,
    user_id: Uuid,
    except: Option<&[u8]>,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "delete from session where user_id = $1 and ($2::bytea is null or session_hash <> $2)",
        user_id,
        except,
    )
    .execute(executor)
    .await?;
    Ok(result.rows_affected())
}

/// Removes sessions that can no longer be used; run periodically by the server.
pub async fn delete_expired(pool: &PgPool, settings: &AuthSettings) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "delete from session where expires_at <= now() or last_seen_at <= now() - $1::interval",
        interval(settings.session_idle_timeout),
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

/// The `Set-Cookie` value that stores a new session id.
pub fn cookie(value: &str, settings: &AuthSettings) -> String {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        settings.session_max_age.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(settings: &AuthSettings) -> String {
    let secure = if settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
}

/// The session id from a `Cookie` header, if there is one.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_and_same_site_strict() {
        let mut settings = AuthSettings::default();
        let cookie = cookie("abc", &settings);
        assert!(cookie.starts_with("pareto_session=abc;"));
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        settings.secure_cookies = true;
        assert!(super::cookie("abc", &settings).contains("; Secure"));
        assert!(clearing_cookie(&settings).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_id_is_found_among_other_cookies() {
        assert_eq!(
            from_cookie_header("a=1; pareto_session=xyz; b=2"),
            Some("xyz")
        );
        assert_eq!(from_cookie_header("pareto_session="), None);
        assert_eq!(from_cookie_header("other=1"), None);
    }
}
