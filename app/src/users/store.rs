//! Users in Postgres. Every change is audited in the same transaction.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{NewUser, UserSummary};
use crate::audit::{self, Actor, Change};
use crate::auth::{password, session, Role};
use crate::error::{unique_as_field, AppError};

pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from app_user"#)
        .fetch_one(pool)
        .await
}

async fn insert(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    user: &NewUser,
    password_hash: &str,
) -> Result<Uuid, AppError> {
    let inserted = sqlx::query_scalar!(
        "insert into app_user (email, display_name, password_hash, role)
         values ($1, $2, $3, $4) returning user_id",
        user.email,
        user.display_name,
        password_hash,
        user.role as Role,
    )
    .fetch_one(&mut *tx)
    .await;
    let user_id = unique_as_field(inserted, "email", || {
        format!("{} already has an account.", user.email)
    })?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "user.create",
            entity_type: "user",
            entity_id: user_id.to_string(),
            summary: format!("created {} as {}", user.email, user.role),
            detail: json!({ "email": user.email, "role": user.role }),
        },
    )
    .await?;
    Ok(user_id)
}

pub async fn create(pool: &PgPool, actor: &Actor, user: NewUser) -> Result<UserSummary, AppError> {
    let password_hash = password::hash(user.password.clone()).await?;
    let mut tx = pool.begin().await?;
    let user_id = insert(&mut tx, actor, &user, &password_hash).await?;
    tx.commit().await?;
    get(pool, user_id).await
}

/// Creates the first administrator, only while there are no users at all.
pub async fn create_first_admin(pool: &PgPool, mut user: NewUser) -> Result<Uuid, AppError> {
    user.role = Role::Admin;
    let password_hash = password::hash(user.password.clone()).await?;
    let mut tx = pool.begin().await?;
    // Two people submitting the setup form at once must not both become the first admin.
    sqlx::query!("lock table app_user in share row exclusive mode")
        .execute(&mut *tx)
        .await?;
    let existing = sqlx::query_scalar!(r#"select count(*) as "count!" from app_user"#)
        .fetch_one(&mut *tx)
        .await?;
    if existing > 0 {
        return Err(AppError::Conflict(
            "Pareto is already set up. Sign in instead.".into(),
        ));
    }
    let user_id = insert(&mut tx, &Actor::System, &user, &password_hash).await?;
    tx.commit().await?;
    Ok(user_id)
}

pub async fn list(pool: &PgPool) -> Result<Vec<UserSummary>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select u.user_id, u.email, u.display_name, u.role as "role: Role",
                  u.disabled_at is not null as "disabled!", u.created_at,
                  coalesce(array_agg(t.name order by t.name) filter (where t.name is not null), '{}') as "teams!"
             from app_user u
             left join team_member m using (user_id)
             left join team t using (team_id)
            group by u.user_id
            order by u.disabled_at is not null, lower(u.display_name), u.email"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| UserSummary {
            user_id: row.user_id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
            disabled: row.disabled,
            teams: row.teams,
            created_at: row.created_at,
        })
        .collect())
}

pub async fn get(pool: &PgPool, user_id: Uuid) -> Result<UserSummary, AppError> {
    list(pool)
        .await?
        .into_iter()
        .find(|user| user.user_id == user_id)
        .ok_or_else(|| AppError::NotFound("No such user.".into()))
}

pub async fn id_by_email(pool: &PgPool, email: &str) -> Result<Uuid, AppError> {
    let email = email.trim().to_lowercase();
    sqlx::query_scalar!("select user_id from app_user where email = $1", email)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("No user has the email {email}.")))
}

/// What sign-in needs to know about an account.
pub struct LoginRecord {
    pub user_id: Uuid,
    pub password_hash: String,
    pub disabled: bool,
}

pub async fn login_record(pool: &PgPool, email: &str) -> Result<Option<LoginRecord>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select user_id, password_hash, disabled_at is not null as "disabled!"
             from app_user where email = $1"#,
        email
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| LoginRecord {
        user_id: row.user_id,
        password_hash: row.password_hash,
        disabled: row.disabled,
    }))
}

fn refuse_self(actor: &Actor, user_id: Uuid, what: &str) -> Result<(), AppError> {
    if actor.user_id() == Some(user_id) {
        Err(AppError::Forbidden(format!(
            "you cannot {what} your own account; ask another admin."
        )))
    } else {
        Ok(())
    }
}

pub async fn set_role(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    role: Role,
) -> Result<UserSummary, AppError> {
    refuse_self(actor, user_id, "change the role of")?;
    let mut tx = pool.begin().await?;
    let previous = sqlx::query!(
        r#"select email, role as "role: Role" from app_user where user_id = $1 for update"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    if previous.role != role {
        sqlx::query!(
            "update app_user set role = $2, updated_at = now() where user_id = $1",
            user_id,
            role as Role
        )
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut *tx,
            actor,
            Change {
                action: "user.set_role",
                entity_type: "user",
                entity_id: user_id.to_string(),
                summary: format!(
                    "changed {} from {} to {}",
                    previous.email, previous.role, role
                ),
                detail: json!({ "email": previous.email, "from": previous.role, "to": role }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    get(pool, user_id).await
}

pub async fn set_disabled(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    disabled: bool,
) -> Result<UserSummary, AppError> {
    refuse_self(actor, user_id, "disable")?;
    let mut tx = pool.begin().await?;
    let email = sqlx::query_scalar!(
        "update app_user
            set disabled_at = case when $2 then coalesce(disabled_at, now()) else null end,
                updated_at = now()
          where user_id = $1
        returning email",
        user_id,
        disabled
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    if disabled {
        session::delete_all_for_user(&mut *tx, user_id, None).await?;
    }
    let (action, verb) = if disabled {
        ("user.disable", "disabled")
    } else {
        ("user.enable", "enabled")
    };
    audit::record(
        &mut *tx,
        actor,
        Change {
            action,
            entity_type: "user",
            entity_id: user_id.to_string(),
            summary: format!("{verb} {email}"),
            detail: json!({ "email": email }),
        },
    )
    .await?;
    tx.commit().await?;
    get(pool, user_id).await
}

/// Stores a new password and ends every other session of the account.
pub async fn set_password(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
    new_password: String,
    keep_session: Option<&[u8]>,
) -> Result<(), AppError> {
    let password_hash = password::hash(new_password).await?;
    let mut tx = pool.begin().await?;
    let email = sqlx::query_scalar!(
        "update app_user set password_hash = $2, password_changed_at = now(), updated_at = now()
          where user_id = $1 returning email",
        user_id,
        password_hash
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No such user.".into()))?;
    session::delete_all_for_user(&mut *tx, user_id, keep_session).await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "user.set_password",
            entity_type: "user",
            entity_id: user_id.to_string(),
            summary: format!("changed the password of {email}"),
            detail: json!({ "email": email }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
