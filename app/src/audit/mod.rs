//! The audit log: who changed what, and when. Written in the same transaction as the change;
//! leads and admins read it on the audit page, filtered by actor, entity and time.

mod page;

pub use page::AuditPage;

use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The audit page's filter, as typed: empty fields do not filter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: String,
    pub entity: String,
    /// yyyy-mm-dd, inclusive
    pub from: String,
    /// yyyy-mm-dd, inclusive
    pub to: String,
}

impl AuditQuery {
    /// The dates, or the field that is not one.
    pub fn dates(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), AppError> {
        let date = |field: &str, text: &str| {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| AppError::field(field, "Give a date as yyyy-mm-dd."))
        };
        let from = date("from", &self.from)?;
        let to = date("to", &self.to)?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(AppError::field("to", "The end comes before the start."));
            }
        }
        Ok((from, to))
    }
}

/// What the audit page shows: the matching events and what the filters can choose from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditPageData {
    pub events: Vec<AuditEvent>,
    pub actors: Vec<String>,
    pub entities: Vec<String>,
    /// More events match than are shown.
    pub truncated: bool,
}

/// How many events the page shows at most.
pub const EVENTS_SHOWN: i64 = 500;

#[server]
pub async fn search_audit_log(query: AuditQuery) -> Result<AuditPageData, AppError> {
    use crate::auth::{guard, Role};
    guard::respond(async {
        guard::require(Role::Lead)?;
        let (from, to) = query.dates()?;
        Ok(search(&guard::state()?.pool, &query, from, to, EVENTS_SHOWN).await?)
    })
    .await
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub audit_log_id: i64,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub summary: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::AuditEvent;
    use crate::auth::CurrentUser;
    use uuid::Uuid;

    /// Who made a change.
    #[derive(Clone, Debug)]
    pub enum Actor {
        User(CurrentUser),
        Token(TokenActor),
        CommandLine,
        System,
    }

    /// An API token acting: its name, the person who created it and the team it is bound to.
    #[derive(Clone, Debug)]
    pub struct TokenActor {
        pub name: String,
        pub created_by: Option<Uuid>,
        pub team_id: Option<Uuid>,
    }

    impl Actor {
        pub fn user_id(&self) -> Option<Uuid> {
            match self {
                Actor::User(user) => Some(user.user_id),
                Actor::Token(_) | Actor::CommandLine | Actor::System => None,
            }
        }

        /// The person who answers for a change: the user, or the one who created the token. A
        /// review gate counts them as the requester, so nobody approves their own pipeline's ask.
        pub fn accountable_user(&self) -> Option<Uuid> {
            match self {
                Actor::Token(token) => token.created_by,
                other => other.user_id(),
            }
        }

        pub fn label(&self) -> String {
            match self {
                Actor::User(user) => user.email.clone(),
                Actor::Token(token) => format!("API token {}", token.name),
                Actor::CommandLine => "command line".into(),
                Actor::System => "system".into(),
            }
        }
    }

    /// One change. `summary` is the sentence people read; `detail` holds the fields, never secrets.
    pub struct Change<'a> {
        pub action: &'a str,
        pub entity_type: &'a str,
        pub entity_id: String,
        pub summary: String,
        pub detail: serde_json::Value,
    }

    pub async fn record(
        executor: impl sqlx::PgExecutor<'_>,
        actor: &Actor,
        change: Change<'_>,
    ) -> Result<(), sqlx::Error> {
        let mut detail = change.detail;
        if let serde_json::Value::Object(map) = &mut detail {
            map.insert("summary".into(), serde_json::Value::String(change.summary));
        }
        sqlx::query!(
            "insert into audit_log (actor_user_id, actor_label, action, entity_type, entity_id, detail)
             values ($1, $2, $3, $4, $5, $6)",
            actor.user_id(),
            actor.label(),
            change.action,
            change.entity_type,
            change.entity_id,
            detail,
        )
        .execute(executor)
        .await?;
        Ok(())
    }

    /// Events matching the query, newest first, with the actors and entity types to filter by.
    pub async fn search(
        pool: &sqlx::PgPool,
        query: &super::AuditQuery,
        from: Option<chrono::NaiveDate>,
        to: Option<chrono::NaiveDate>,
        limit: i64,
    ) -> Result<super::AuditPageData, sqlx::Error> {
        let actor = query.actor.trim();
        let entity = query.entity.trim();
        let rows = sqlx::query!(
            r#"select audit_log_id, actor_label, action, entity_type, entity_id,
                      coalesce(detail->>'summary', action) as "summary!", created_at
                 from audit_log
                where ($1 = '' or actor_label = $1)
                  and ($2 = '' or entity_type = $2)
                  and ($3::date is null or created_at >= $3::date)
                  and ($4::date is null or created_at < $4::date + 1)
                order by audit_log_id desc
                limit $5"#,
            actor,
            entity,
            from,
            to,
            limit + 1
        )
        .fetch_all(pool)
        .await?;
        let truncated = rows.len() as i64 > limit;
        let events = rows
            .into_iter()
            .take(limit as usize)
            .map(|row| AuditEvent {
                audit_log_id: row.audit_log_id,
                actor: row.actor_label,
                action: row.action,
                entity_type: row.entity_type,
                entity_id: row.entity_id,
                summary: row.summary,
                created_at: row.created_at,
            })
            .collect();
        let actors = sqlx::query_scalar!(
            r#"select distinct actor_label as "actor!" from audit_log order by 1"#
        )
        .fetch_all(pool)
        .await?;
        let entities = sqlx::query_scalar!(
            r#"select distinct entity_type as "entity!" from audit_log order by 1"#
        )
        .fetch_all(pool)
        .await?;
        Ok(super::AuditPageData {
            events,
            actors,
            entities,
            truncated,
        })
    }

    pub async fn recent(pool: &sqlx::PgPool, limit: i64) -> Result<Vec<AuditEvent>, sqlx::Error> {
        let rows = sqlx::query!(
            r#"select audit_log_id, actor_label, action, entity_type, entity_id,
                      coalesce(detail->>'summary', action) as "summary!", created_at
                 from audit_log order by audit_log_id desc limit $1"#,
            limit
        )
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| AuditEvent {
                audit_log_id: row.audit_log_id,
                actor: row.actor_label,
                action: row.action,
                entity_type: row.entity_type,
                entity_id: row.entity_id,
                summary: row.summary,
                created_at: row.created_at,
            })
            .collect())
    }
}
