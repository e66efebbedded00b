//! API tokens in Postgres: only the SHA-256 of each token is kept.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{CreatedToken, Scope, TokenSummary};
use crate::audit::{self, Actor, Change};
use crate::auth::secret::{random_token, sha256, API_TOKEN_PREFIX};
use crate::error::AppError;

fn scopes_from_db(scopes: Vec<String>) -> Vec<Scope> {
    scopes
        .iter()
        .filter_map(|scope| scope.parse().ok())
        .collect()
}

pub async fn list(pool: &PgPool) -> Result<Vec<TokenSummary>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select k.api_token_id, k.name, k.token_prefix, k.scopes, t.name as "team?",
                  u.email as "created_by?", k.created_at, k.last_used_at, k.revoked_at
             from api_token k
             left join team t using (team_id)
             left join app_user u on u.user_id = k.created_by
            order by k.revoked_at is not null, k.created_at desc"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| TokenSummary {
            api_token_id: row.api_token_id,
            name: row.name,
            token_prefix: row.token_prefix,
            scopes: scopes_from_db(row.scopes),
            team: row.team,
            created_by: row.created_by,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
        .collect())
}

pub async fn count_live(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from api_token where revoked_at is null"#)
        .fetch_one(pool)
        .await
}

pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    scopes: &[Scope],
    team_id: Option<Uuid>,
) -> Result<CreatedToken, AppError> {
    let secret = random_token(API_TOKEN_PREFIX);
    // "pareto_" and four characters of the random part: enough to recognise, useless to guess.
    let token_prefix: String = secret.chars().take(API_TOKEN_PREFIX.len() + 5).collect();
    let scope_names: Vec<String> = scopes.iter().map(|scope| scope.to_string()).collect();
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into api_token (name, token_hash, token_prefix, scopes, team_id, created_by)
         values ($1, $2, $3, $4, $5, $6) returning api_token_id",
        name,
        sha256(&secret),
        token_prefix,
        &scope_names,
        team_id,
        actor.user_id(),
    )
    .fetch_one(&mut *tx)
    .await;
    let api_token_id = match inserted {
        Ok(id) => id,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(AppError::field(
                "name",
                format!("A live token is already named {name}; revoke it or choose another name."),
            ))
        }
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(AppError::field("team_id", "Choose an existing team."))
        }
        Err(error) => return Err(error.into()),
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "token.create",
            entity_type: "api_token",
            entity_id: api_token_id.to_string(),
            summary: format!("created token {name} ({})", scope_names.join(", ")),
            detail: json!({ "name": name, "scopes": scope_names, "team_id": team_id }),
        },
    )
    .await?;
    tx.commit().await?;
    let token = list(pool)
        .await?
        .into_iter()
        .find(|token| token.api_token_id == api_token_id)
        .ok_or(AppError::Internal)?;
    Ok(CreatedToken { token, secret })
}

pub async fn id_by_name(pool: &PgPool, name: &str) -> Result<Uuid, AppError> {
    let name = name.trim();
    sqlx::query_scalar!(
        "select api_token_id from api_token where lower(name) = lower($1) and revoked_at is null",
        name
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("No live token is named {name}.")))
}

pub async fn revoke(pool: &PgPool, actor: &Actor, api_token_id: Uuid) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let name = sqlx::query_scalar!(
        "update api_token set revoked_at = now(), revoked_by = $2
          where api_token_id = $1 and revoked_at is null returning name",
        api_token_id,
        actor.user_id()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| {
        AppError::NotFound("No live token has that id; it may already be revoked.".into())
    })?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "token.revoke",
            entity_type: "api_token",
            entity_id: api_token_id.to_string(),
            summary: format!("revoked token {name}"),
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The live token a bearer secret belongs to.
#[derive(Clone, Debug)]
pub struct TokenIdentity {
    pub api_token_id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub team: Option<String>,
    pub team_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
}

impl TokenIdentity {
    /// The token as the author of a change.
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor::Token(crate::audit::TokenActor {
            name: self.name.clone(),
            created_by: self.created_by,
            team_id: self.team_id,
        })
    }
}

/// Finds the live token for a secret and records its use, at most once a minute so that an
/// agent posting every few seconds does not write the row on every request.
pub async fn authenticate(
    pool: &PgPool,
    secret: &str,
) -> Result<Option<TokenIdentity>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select k.api_token_id, k.name, k.scopes, t.name as "team?", k.team_id, k.created_by,
                  coalesce(k.last_used_at < now() - interval '1 minute', true) as "stale_use!"
             from api_token k left join team t using (team_id)
            where k.token_hash = $1 and k.revoked_at is null"#,
        sha256(secret)
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    if row.stale_use {
        sqlx::query!(
            "update api_token set last_used_at = now() where api_token_id = $1",
            row.api_token_id
        )
        .execute(pool)
        .await?;
    }
    Ok(Some(TokenIdentity {
        api_token_id: row.api_token_id,
        name: row.name,
        scopes: scopes_from_db(row.scopes),
        team: row.team,
        team_id: row.team_id,
        created_by: row.created_by,
    }))
}
