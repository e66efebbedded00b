//! Teams in Postgres. Every change is audited in the same transaction.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::access::{self, Subject};
use super::{TeamMember, TeamSummary};
use crate::audit::{self, Actor, Change};
use crate::error::{unique_as_field, AppError};

/// Every team for an admin (`everywhere`), else the teams `user_id` is in; by name.
pub async fn own(
    pool: &PgPool,
    user_id: Uuid,
    everywhere: bool,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        "select t.team_id, t.name from team t
          where $2 or exists (select 1 from team_member m where m.team_id = t.team_id and m.user_id = $1)
          order by lower(t.name)",
        user_id,
        everywhere
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.team_id, row.name))
    .collect())
}

pub async fn list(pool: &PgPool) -> Result<Vec<TeamSummary>, sqlx::Error> {
    let teams = sqlx::query!(
        "select team_id, name, description, created_at from team order by lower(name)"
    )
    .fetch_all(pool)
    .await?;
    let members = sqlx::query!(
        "select m.team_id, u.user_id, u.display_name, u.email
           from team_member m join app_user u using (user_id)
          order by lower(u.display_name)"
    )
    .fetch_all(pool)
    .await?;
    Ok(teams
        .into_iter()
        .map(|team| TeamSummary {
            members: members
                .iter()
                .filter(|member| member.team_id == team.team_id)
                .map(|member| TeamMember {
                    user_id: member.user_id,
                    display_name: member.display_name.clone(),
                    email: member.email.clone(),
                })
                .collect(),
            team_id: team.team_id,
            name: team.name,
            description: team.description,
            created_at: team.created_at,
        })
        .collect())
}

pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from team"#)
        .fetch_one(pool)
        .await
}

pub async fn id_by_name(pool: &PgPool, name: &str) -> Result<Uuid, AppError> {
    let name = name.trim();
    sqlx::query_scalar!(
        "select team_id from team where lower(name) = lower($1)",
        name
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("No team is named {name}.")))
}

pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    name: &str,
    description: &str,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let inserted = sqlx::query_scalar!(
        "insert into team (name, description) values ($1, $2) returning team_id",
        name,
        description
    )
    .fetch_one(&mut *tx)
    .await;
    let team_id = unique_as_field(inserted, "name", || {
        format!("A team named {name} already exists.")
    })?;
    // A lead who creates a team is in it, so they can go on to manage what they made (an admin
    // acts for every team without joining it).
    if let Actor::User(user) = actor {
        if !user.can(crate::auth::Role::Admin) {
            sqlx::query!(
                "insert into team_member (team_id, user_id) values ($1, $2)",
                team_id,
                user.user_id
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "team.create",
            entity_type: "team",
            entity_id: team_id.to_string(),
            summary: format!("created team {name}"),
            detail: json!({ "name": name, "description": description }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(team_id)
}

async fn names(
    tx: &mut sqlx::PgConnection,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<(String, String), AppError> {
    let team = sqlx::query_scalar!("select name from team where team_id = $1", team_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound("No such team.".into()))?;
    let email = sqlx::query_scalar!("select email from app_user where user_id = $1", user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::field("user_id", "Choose a person who has an account."))?;
    Ok((team, email))
}

pub async fn add_member(
    pool: &PgPool,
    actor: &Actor,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<(), AppError> {
    change_membership(pool, actor, team_id, user_id, true).await
}

pub async fn remove_member(
    pool: &PgPool,
    actor: &Actor,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<(), AppError> {
    change_membership(pool, actor, team_id, user_id, false).await
}

/// Adds (`add`) or removes a member, refusing a change that changes nothing, and audits it.
async fn change_membership(
    pool: &PgPool,
    actor: &Actor,
    team_id: Uuid,
    user_id: Uuid,
    add: bool,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    let (team, email) = names(&mut tx, team_id, user_id).await?;
    access::require(&mut tx, actor, Subject::Team(team_id)).await?;
    let changed = if add {
        sqlx::query!(
            "insert into team_member (team_id, user_id) values ($1, $2) on conflict do nothing",
            team_id,
            user_id
        )
        .execute(&mut *tx)
        .await?
    } else {
        sqlx::query!(
            "delete from team_member where team_id = $1 and user_id = $2",
            team_id,
            user_id
        )
        .execute(&mut *tx)
        .await?
    }
    .rows_affected();
    let (action, summary) = match (add, changed) {
        (true, 0) => {
            return Err(AppError::field(
                "user_id",
                format!("{email} is already in {team}."),
            ))
        }
        (false, 0) => return Err(AppError::NotFound(format!("{email} is not in {team}."))),
        (true, _) => ("team.add_member", format!("added {email} to {team}")),
        (false, _) => ("team.remove_member", format!("removed {email} from {team}")),
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action,
            entity_type: "team",
            entity_id: team_id.to_string(),
            summary,
            detail: json!({ "team": team, "email": email }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
