//! The audit log: who changed what, and when. Written in the same transaction as the change.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
        /// An API token, by its name.
        Token(String),
        CommandLine,
        System,
    }

    impl Actor {
        pub fn user_id(&self) -> Option<Uuid> {
            match self {
                Actor::User(user) => Some(user.user_id),
                Actor::Token(_) | Actor::CommandLine | Actor::System => None,
            }
        }

        pub fn label(&self) -> String {
            match self {
                Actor::User(user) => user.email.clone(),
                Actor::Token(name) => format!("API token {name}"),
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
