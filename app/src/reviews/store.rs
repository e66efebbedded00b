//! Promotion requests and reviews in Postgres. A request, each review and the promotion it leads
//! to are written with their audit entries in one transaction.

use serde_json::json;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

use super::{
    gate_reasons, GateSettings, Projection, PromotionOutcome, PromotionRequest, Review, ReviewState,
};
use crate::audit::{self, Actor, Change};
use crate::auth::CurrentUser;
use crate::catalog::{store as catalog, ModelStatus};
use crate::error::AppError;
use crate::format::format_money;
use crate::teams::access::{self, Subject};

pub async fn settings(executor: impl sqlx::PgExecutor<'_>) -> Result<GateSettings, sqlx::Error> {
    sqlx::query_as!(
        GateSettings,
        "select monthly_cost_threshold, currency, approvals_required from review_setting"
    )
    .fetch_one(executor)
    .await
}

pub async fn save_settings(
    pool: &PgPool,
    actor: &Actor,
    settings: GateSettings,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "update review_setting set monthly_cost_threshold = $1, currency = $2,
                                   approvals_required = $3, updated_at = now()",
        settings.monthly_cost_threshold,
        settings.currency,
        settings.approvals_required
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "review_gate.settings",
            entity_type: "review_gate",
            entity_id: "settings".into(),
            summary: format!(
                "set the review gate to {} approval(s) over {}",
                settings.approvals_required,
                format_money(settings.monthly_cost_threshold, &settings.currency)
            ),
            detail: json!({
                "monthly_cost_threshold": settings.monthly_cost_threshold,
                "currency": settings.currency,
                "approvals_required": settings.approvals_required,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the version would cost a month in production: from its own deployments' last 7 days,
/// else what the model's deployments cost over the last 30 days.
async fn projection(
    pool: &PgPool,
    model_version_id: Uuid,
    model: &crate::catalog::CatalogModel,
) -> Result<Option<Projection>, sqlx::Error> {
    let cost = crate::cards::store::cost(pool, model_version_id, model.model_id).await?;
    if let (Some(amount), Some(currency)) = (cost.projected_monthly, cost.currency) {
        return Ok(Some(Projection {
            amount,
            currency,
            basis: "the version's deployments at the last 7 days' volume".into(),
        }));
    }
    Ok(model
        .figures
        .monthly_cost
        .zip(model.figures.currency.clone())
        .map(|(amount, currency)| Projection {
            amount,
            currency,
            basis: "what the model's deployments cost over the last 30 days".into(),
        }))
}

/// Asks for production: promotes at once when the gate lets the version through, else opens a
/// request for review.
pub async fn request(
    pool: &PgPool,
    actor: &Actor,
    model_version_id: Uuid,
    comment: &str,
) -> Result<PromotionOutcome, AppError> {
    let mut tx = pool.begin().await?;
    let version = catalog::lock_version(&mut tx, model_version_id).await?;
    access::require(&mut tx, actor, Subject::ModelVersion(model_version_id)).await?;
    if version.status == ModelStatus::Production {
        return Err(AppError::Conflict(format!(
            "{} {} is already in production.",
            version.model, version.version
        )));
    }
    let open = sqlx::query_scalar!(
        "select created_at from promotion_request where model_version_id = $1 and state = 'pending'",
        model_version_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(since) = open {
        return Err(AppError::Conflict(format!(
            "{} {} has been waiting for review since {}.",
            version.model,
            version.version,
            since.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    let settings = settings(&mut *tx).await?;
    let model = catalog::model(pool, version.model_id)
        .await?
        .ok_or_else(|| AppError::NotFound("No model has this id.".into()))?;
    let projected = projection(pool, model_version_id, &model).await?;
    let mut reasons = gate_reasons(
        model.placement.tier,
        model.placement.ruled_tier,
        projected.as_ref(),
        &settings,
    );
    // A breach no lead has waived needs a lead's eyes, however cheap the version is.
    reasons.extend(
        crate::guardrails::store::breaches(pool, crate::clock::now())
            .await?
            .into_iter()
            .filter(|b| b.waiver.is_none() && b.model_version_id == Some(model_version_id))
            .map(|b| format!("Its deployment {}.", b.sentence())),
    );
    if reasons.is_empty() {
        let note = format!(
            " (no review needed: {}{})",
            model.placement.tier,
            projected.map_or_else(String::new, |p| format!(
                ", projected {} a month",
                format_money(p.amount, &p.currency)
            ))
        );
        catalog::write_status(
            &mut tx,
            actor,
            model_version_id,
            &version,
            ModelStatus::Production,
            &note,
        )
        .await?;
        tx.commit().await?;
        return Ok(PromotionOutcome::Promoted {
            note: format!(
                "{} {} is in production{note}.",
                version.model, version.version
            ),
        });
    }
    let id = sqlx::query_scalar!(
        "insert into promotion_request
            (model_version_id, requested_by, requested_by_label, comment, reasons, approvals_required)
         values ($1, $2, $3, $4, $5, $6) returning promotion_request_id",
        model_version_id,
        actor.accountable_user(),
        actor.label(),
        comment,
        &reasons,
        settings.approvals_required
    )
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "promotion.request",
            entity_type: "model_version",
            entity_id: model_version_id.to_string(),
            summary: format!(
                "asked to promote {} {} to production: {}",
                version.model,
                version.version,
                reasons.join(" ")
            ),
            detail: json!({ "promotion_request_id": id, "reasons": reasons, "comment": comment }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(PromotionOutcome::Pending {
        promotion_request_id: id,
        reasons,
    })
}

/// A lead's decision. The requester cannot review their own request; a rejection ends it; the
/// last approval needed promotes the version.
pub async fn review(
    pool: &PgPool,
    reviewer: &CurrentUser,
    promotion_request_id: Uuid,
    approve: bool,
    comment: &str,
) -> Result<ReviewState, AppError> {
    let actor = Actor::User(reviewer.clone());
    let mut tx = pool.begin().await?;
    let request = sqlx::query!(
        r#"select model_version_id, requested_by, state as "state: ReviewState", approvals_required
             from promotion_request where promotion_request_id = $1 for update"#,
        promotion_request_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No promotion request has this id.".into()))?;
    access::require(
        &mut tx,
        &actor,
        Subject::ModelVersion(request.model_version_id),
    )
    .await?;
    if request.state != ReviewState::Pending {
        return Err(AppError::Conflict(format!(
            "This request is already {}.",
            request.state.label()
        )));
    }
    if request.requested_by == Some(reviewer.user_id) {
        return Err(AppError::Forbidden(
            "you asked for this promotion, so another lead must review it.".into(),
        ));
    }
    if !approve && comment.trim().is_empty() {
        return Err(AppError::field(
            "comment",
            "Say why you reject it: the requester reads this.",
        ));
    }
    let inserted = sqlx::query!(
        "insert into promotion_review (promotion_request_id, reviewer_id, reviewer_label, approve, comment)
         values ($1, $2, $3, $4, $5) on conflict do nothing",
        promotion_request_id,
        reviewer.user_id,
        reviewer.email,
        approve,
        comment
    )
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(
            "You have already reviewed this request.".into(),
        ));
    }
    let version = catalog::lock_version(&mut tx, request.model_version_id).await?;
    let approvals = sqlx::query_scalar!(
        r#"select count(*) as "count!" from promotion_review
            where promotion_request_id = $1 and approve"#,
        promotion_request_id
    )
    .fetch_one(&mut *tx)
    .await?;
    let state = if !approve {
        ReviewState::Rejected
    } else if approvals >= i64::from(request.approvals_required) {
        ReviewState::Approved
    } else {
        ReviewState::Pending
    };
    if state != ReviewState::Pending {
        sqlx::query!(
            "update promotion_request set state = $2, decided_at = now() where promotion_request_id = $1",
            promotion_request_id,
            state as ReviewState
        )
        .execute(&mut *tx)
        .await?;
    }
    let what = if approve { "approved" } else { "rejected" };
    audit::record(
        &mut *tx,
        &actor,
        Change {
            action: if approve {
                "promotion.approve"
            } else {
                "promotion.reject"
            },
            entity_type: "model_version",
            entity_id: request.model_version_id.to_string(),
            summary: format!(
                "{what} the promotion of {} {} to production{}",
                version.model,
                version.version,
                if comment.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", comment.trim())
                }
            ),
            detail: json!({
                "promotion_request_id": promotion_request_id, "approve": approve,
                "comment": comment, "approvals": approvals,
            }),
        },
    )
    .await?;
    if state == ReviewState::Approved {
        catalog::write_status(
            &mut tx,
            &actor,
            request.model_version_id,
            &version,
            ModelStatus::Production,
            " (approved in review)",
        )
        .await?;
    }
    tx.commit().await?;
    Ok(state)
}

/// Requests, open ones first, then the latest decided; for one version or all.
pub async fn list(
    pool: &PgPool,
    model_version_id: Option<Uuid>,
    model_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<PromotionRequest>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.promotion_request_id, v.model_id, m.name as model, r.model_version_id, v.version,
                  r.requested_by_label, r.requested_by, r.comment, r.reasons, r.approvals_required,
                  r.state as "state: ReviewState", r.created_at, r.decided_at
             from promotion_request r
             join model_version v using (model_version_id)
             join model m using (model_id)
            where ($1::uuid is null or r.model_version_id = $1)
              and ($2::uuid is null or v.model_id = $2)
            order by (r.state = 'pending') desc, r.created_at desc
            limit $3"#,
        model_version_id,
        model_id,
        limit
    )
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.promotion_request_id).collect();
    let mut reviews: HashMap<Uuid, Vec<Review>> = HashMap::new();
    for row in sqlx::query!(
        "select promotion_request_id, reviewer_label, approve, comment, created_at
           from promotion_review where promotion_request_id = any($1) order by created_at",
        &ids
    )
    .fetch_all(pool)
    .await?
    {
        reviews
            .entry(row.promotion_request_id)
            .or_default()
            .push(Review {
                reviewer: row.reviewer_label,
                approve: row.approve,
                comment: row.comment,
                at: row.created_at,
            });
    }
    Ok(rows
        .into_iter()
        .map(|row| PromotionRequest {
            reviews: reviews
                .remove(&row.promotion_request_id)
                .unwrap_or_default(),
            promotion_request_id: row.promotion_request_id,
            model_id: row.model_id,
            model: row.model,
            model_version_id: row.model_version_id,
            version: row.version,
            requested_by: row.requested_by_label,
            requested_by_id: row.requested_by,
            comment: row.comment,
            reasons: row.reasons,
            approvals_required: row.approvals_required,
            state: row.state,
            created_at: row.created_at,
            decided_at: row.decided_at,
        })
        .collect())
}

/// How many requests wait for review.
pub async fn pending_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "count!" from promotion_request where state = 'pending'"#
    )
    .fetch_one(pool)
    .await
}

/// The latest request of a version, for its card and the API.
pub async fn latest(
    pool: &PgPool,
    model_version_id: Uuid,
) -> Result<Option<PromotionRequest>, sqlx::Error> {
    let mut all = list(pool, Some(model_version_id), None, 50).await?;
    all.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    Ok(all.into_iter().next())
}
