//! Who may change what a team owns. Everyone reads everything; members and leads change only what
//! their own teams own, admins change anything, and a token bound to a team acts only for it.
//!
//! Every write that belongs to a team calls [`require`] inside its transaction, after its role
//! check, so the pages and the API answer the same way.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::Role;
use crate::error::AppError;

/// What a change is made to, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Team(Uuid),
    Experiment(Uuid),
    Model(Uuid),
    ModelVersion(Uuid),
    Deployment(Uuid),
    Budget(Uuid),
    Alert(Uuid),
}

const TEAM: &str = "team";

impl Subject {
    fn noun(self) -> &'static str {
        match self {
            Subject::Team(_) => TEAM,
            Subject::Experiment(_) => "experiment",
            Subject::Model(_) => "model",
            Subject::ModelVersion(_) => "model version",
            Subject::Deployment(_) => "deployment",
            Subject::Budget(_) => "budget",
            Subject::Alert(_) => "alert",
        }
    }
}

/// The team that owns a subject, or none when it belongs to the whole organization (an unlinked
/// deployment, a model nobody owns, a tier's budget).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub team_id: Uuid,
    pub name: String,
}

/// The owner of `subject`: `Ok(None)` for the organization, `NotFound` when it does not exist.
pub async fn owner(db: &mut PgConnection, subject: Subject) -> Result<Option<Owner>, AppError> {
    let row = match subject {
        Subject::Team(id) => sqlx::query!(
            r#"select team_id as "team_id?", name as "name?" from team where team_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
        Subject::Experiment(id) => sqlx::query!(
            r#"select t.team_id as "team_id?", t.name as "name?"
                 from experiment e left join team t on t.team_id = e.team_id
                where e.experiment_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
        Subject::Model(id) => sqlx::query!(
            r#"select t.team_id as "team_id?", t.name as "name?"
                 from model m left join team t on t.team_id = m.owner_team_id
                where m.model_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
        Subject::ModelVersion(id) => sqlx::query!(
            r#"select t.team_id as "team_id?", t.name as "name?"
                 from model_version v
                 join model m on m.model_id = v.model_id
                 left join team t on t.team_id = m.owner_team_id
                where v.model_version_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
        Subject::Deployment(id) => sqlx::query!(
            r#"select t.team_id as "team_id?", t.name as "name?"
                 from deployment d
                 left join model_version v on v.model_version_id = d.model_version_id
                 left join model m on m.model_id = v.model_id
                 left join team t on t.team_id = m.owner_team_id
                where d.deployment_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
        Subject::Budget(id) => sqlx::query!(
            r#"select t.team_id as "team_id?", t.name as "name?"
                 from budget b
                 left join model m on m.model_id = b.model_id
                 left join team t on t.team_id = coalesce(b.team_id, m.owner_team_id)
                where b.budget_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
        Subject::Alert(id) => sqlx::query!(
            r#"select t.team_id as "team_id?", t.name as "name?"
                 from alert a
                 left join budget b on b.budget_id = a.budget_id
                 left join deployment d on d.deployment_id = a.deployment_id
                 left join model_version v on v.model_version_id = d.model_version_id
                 left join model m on m.model_id = coalesce(b.model_id, v.model_id)
                 left join team t on t.team_id = coalesce(b.team_id, m.owner_team_id)
                where a.alert_id = $1"#,
            id
        )
        .fetch_optional(&mut *db)
        .await?
        .map(|row| (row.team_id, row.name)),
    };
    match row {
        None => Err(AppError::NotFound(format!(
            "This {} does not exist any more.",
            subject.noun()
        ))),
        Some((Some(team_id), Some(name))) => Ok(Some(Owner { team_id, name })),
        Some(_) => Ok(None),
    }
}

/// Refuses `actor` a change to `subject` unless it may act for the subject's team.
pub async fn require(
    db: &mut PgConnection,
    actor: &Actor,
    subject: Subject,
) -> Result<(), AppError> {
    let owner = owner(&mut *db, subject).await?;
    require_owner(db, actor, subject.noun(), owner.as_ref()).await
}

/// The name of the team a change is made for, once `actor` may act for it; a team that does not
/// exist is said on `field` with `missing`.
pub async fn team_for_change(
    db: &mut PgConnection,
    actor: &Actor,
    team_id: Uuid,
    field: &str,
    missing: &str,
) -> Result<String, AppError> {
    let team = sqlx::query_scalar!("select name from team where team_id = $1", team_id)
        .fetch_optional(&mut *db)
        .await?
        .ok_or_else(|| AppError::field(field, missing))?;
    require(db, actor, Subject::Team(team_id)).await?;
    Ok(team)
}

/// Refuses `actor` a change made for `team`, or for the whole organization when `None` (a model
/// that no team owns, a tier's budget): admins only, or a token bound to no team.
pub async fn require_team(
    db: &mut PgConnection,
    actor: &Actor,
    team: Option<Uuid>,
    noun: &str,
) -> Result<(), AppError> {
    match team {
        Some(team_id) => require(db, actor, Subject::Team(team_id)).await,
        None => require_owner(db, actor, noun, None).await,
    }
}

/// Refuses `actor` a change to something `owner` owns (the organization when `None`) unless it
/// may act for that team. `noun` names the thing in the message.
pub async fn require_owner(
    db: &mut PgConnection,
    actor: &Actor,
    noun: &str,
    owner: Option<&Owner>,
) -> Result<(), AppError> {
    match (actor, owner) {
        (Actor::CommandLine | Actor::System, _) => Ok(()),
        (Actor::User(user), _) if user.can(Role::Admin) => Ok(()),
        (Actor::User(_), None) => Err(AppError::Forbidden(format!(
            "this {noun} belongs to no team, and only an admin changes it."
        ))),
        (Actor::User(user), Some(owner)) => {
            let member = sqlx::query_scalar!(
                r#"select exists(select 1 from team_member where team_id = $1 and user_id = $2) as "member!""#,
                owner.team_id,
                user.user_id
            )
            .fetch_one(&mut *db)
            .await?;
            if member {
                Ok(())
            } else if noun == TEAM {
                Err(AppError::Forbidden(format!(
                    "only members of {} and admins act for it.",
                    owner.name
                )))
            } else {
                Err(AppError::Forbidden(format!(
                    "this {noun} belongs to {}, and only its members and admins change it.",
                    owner.name
                )))
            }
        }
        (Actor::Token(token), owner) => match (token.team_id, owner) {
            (None, _) => Ok(()),
            (Some(bound), Some(owner)) if bound == owner.team_id => Ok(()),
            (Some(bound), owner) => {
                let bound_name =
                    sqlx::query_scalar!("select name from team where team_id = $1", bound)
                        .fetch_optional(&mut *db)
                        .await?
                        .unwrap_or_else(|| "a team that no longer exists".into());
                let Some(owner) = owner else {
                    return Err(AppError::Forbidden(format!(
                        "this token acts only for {bound_name}, and this {noun} belongs to no team."
                    )));
                };
                Err(AppError::Forbidden(if noun == TEAM {
                    format!(
                        "this token acts only for {bound_name}, not for {}.",
                        owner.name
                    )
                } else {
                    format!(
                        "this token acts only for {bound_name}, and this {noun} belongs to {}.",
                        owner.name
                    )
                }))
            }
        },
    }
}

/// The deployments among `keys` that a token bound to `team_id` may not post for: each one linked
/// to a model of another team, or of no team, with that team's name. Unknown and unlinked keys are
/// free to post (they belong to nobody yet).
pub async fn foreign_deployments(
    pool: &sqlx::PgPool,
    team_id: Uuid,
    keys: &[String],
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"select d.key, t.name as "team?"
             from deployment d
             join model_version v on v.model_version_id = d.model_version_id
             join model m on m.model_id = v.model_id
             left join team t on t.team_id = m.owner_team_id
            where d.key = any($1) and m.owner_team_id is distinct from $2
            order by d.key"#,
        keys,
        team_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.key, row.team))
    .collect())
}
