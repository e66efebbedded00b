//! The review gate through the real router: every role on every action, the requester never
//! approving their own promotion, N approvals, and the same gate over the API.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::catalog::{AddModelVersion, CreateModel, SetTierOverride};
use app::reviews::{ListPromotions, RequestPromotion, ReviewPromotion, SaveGateSettings};
use app::tokens::Scope;

/// A model with one draft version; in Tier 3 when `tier_3`. Returns the version's id.
async fn version(
    router: &axum::Router,
    member: &str,
    lead: &str,
    name: &str,
    tier_3: bool,
) -> String {
    let model = call::<CreateModel>(
        router,
        Some(member),
        &[
            ("name", name),
            ("task", "generation"),
            ("team_id", HOME_TEAM),
            ("description", ""),
        ],
    )
    .await;
    let model_id = model.json().as_str().expect("model").to_owned();
    if tier_3 {
        let set = call::<SetTierOverride>(
            router,
            Some(lead),
            &[
                ("model_id", &model_id),
                ("tier", "3"),
                ("reason", "customer-facing LLM"),
            ],
        )
        .await;
        assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    }
    let version = call::<AddModelVersion>(
        router,
        Some(member),
        &[
            ("model_id", &model_id),
            ("version", "v1"),
            ("framework", ""),
            ("parameter_count", ""),
            ("artifact_uri", ""),
        ],
    )
    .await;
    version.json().as_str().expect("version").to_owned()
}

async fn status_of(pool: &PgPool, version_id: &str) -> String {
    sqlx::query_scalar("select status::text from model_version where model_version_id = $1::uuid")
        .bind(version_id)
        .fetch_one(pool)
        .await
        .expect("status")
}

fn review_form<'a>(
    request: &'a str,
    decision: &'a str,
    comment: &'a str,
) -> [(&'a str, &'a str); 3] {
    [
        ("promotion_request_id", request),
        ("decision", decision),
        ("comment", comment),
    ]
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_tier_3_promotion_waits_for_a_lead_who_is_not_the_requester(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let id = version(&router, &member, &lead, "llm-chat", true).await;
    let ask = [
        ("model_version_id", id.as_str()),
        ("comment", "shadow test passed"),
    ];

    assert_eq!(
        call::<RequestPromotion>(&router, Some(&viewer), &ask)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let asked = call::<RequestPromotion>(&router, Some(&member), &ask).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let pending = &asked.json()["Pending"];
    assert_eq!(
        pending["reasons"],
        serde_json::json!(["The model is Tier 3 (high accuracy at high cost)."])
    );
    let request = pending["promotion_request_id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        status_of(&pool, &id).await,
        "draft",
        "not promoted without approval"
    );

    let again = call::<RequestPromotion>(&router, Some(&member), &ask).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("waiting for review since"),
        "{}",
        again.body
    );

    // Only leads review.
    for caller in [&viewer, &member] {
        let refused =
            call::<ReviewPromotion>(&router, Some(caller), &review_form(&request, "approve", ""))
                .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let no_reason =
        call::<ReviewPromotion>(&router, Some(&lead), &review_form(&request, "reject", " ")).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&pool, "promotion_review").await, 0);

    let approved = call::<ReviewPromotion>(
        &router,
        Some(&lead),
        &review_form(&request, "approve", "ok"),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json(), "approved");
    assert_eq!(status_of(&pool, &id).await, "production");

    let late = call::<ReviewPromotion>(
        &router,
        Some(&admin),
        &review_form(&request, "reject", "no"),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("already approved"), "{}", late.body);

    let listed = call::<ListPromotions>(&router, Some(&viewer), &[])
        .await
        .json();
    assert_eq!(listed[0]["state"], "approved");
    assert_eq!(listed[0]["reviews"][0]["reviewer"], "lead@example.com");
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where entity_id = $1 order by audit_log_id",
    )
    .bind(&id)
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        audited,
        [
            "model_version.create",
            "promotion.request",
            "promotion.approve",
            "model_version.status"
        ]
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_requester_cannot_approve_their_own_and_n_approvals_are_needed(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;

    let settings = [
        ("monthly_cost_threshold", "2500"),
        ("currency", "usd"),
        ("approvals_required", "2"),
    ];
    assert_eq!(
        call::<SaveGateSettings>(&router, Some(&lead), &settings)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let saved = call::<SaveGateSettings>(&router, Some(&admin), &settings).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let id = version(&router, &member, &lead, "ranker-xl", true).await;
    let asked = call::<RequestPromotion>(
        &router,
        Some(&lead),
        &[("model_version_id", &id), ("comment", "")],
    )
    .await;
    let request = asked.json()["Pending"]["promotion_request_id"]
        .as_str()
        .expect("pending")
        .to_owned();
    let own =
        call::<ReviewPromotion>(&router, Some(&lead), &review_form(&request, "approve", "")).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(
        own.body.contains("another lead must review it"),
        "{}",
        own.body
    );

    let first =
        call::<ReviewPromotion>(&router, Some(&admin), &review_form(&request, "approve", "")).await;
    assert_eq!(first.json(), "pending", "one of two approvals");
    let twice =
        call::<ReviewPromotion>(&router, Some(&admin), &review_form(&request, "approve", "")).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(status_of(&pool, &id).await, "draft");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_version_the_gate_does_not_hold_goes_to_production_at_once(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let id = version(&router, &member, &lead, "fraud-lgbm", false).await;
    let asked = call::<RequestPromotion>(
        &router,
        Some(&member),
        &[("model_version_id", &id), ("comment", "")],
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let note = asked.json()["Promoted"]["note"]
        .as_str()
        .expect("note")
        .to_owned();
    assert_eq!(
        note,
        "fraud-lgbm v1 is in production (no review needed: Tier 2)."
    );
    assert_eq!(status_of(&pool, &id).await, "production");
    assert_eq!(count(&pool, "promotion_request").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn pipelines_ask_for_production_over_the_api_with_a_write_token(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let id = version(&router, &member, &lead, "llm-batch", true).await;
    let (_, reader) = token(&pool, "reports", &[Scope::Read]).await;
    let (_, writer) = token(&pool, "release-pipeline", &[Scope::Write]).await;
    let post = |secret: &str| {
        Request::post(format!("/api/v1/model-versions/{id}/promotion"))
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"comment": "nightly build 812"}"#))
            .expect("request")
    };
    assert_eq!(
        send(&router, post(&reader)).await.status,
        StatusCode::FORBIDDEN
    );
    let asked = send(&router, post(&writer)).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    assert_eq!(asked.json()["outcome"], "pending");
    let again = send(&router, post(&writer)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again
            .headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or_default()),
        Some("application/problem+json")
    );

    let status = bearer(
        &router,
        &format!("/api/v1/model-versions/{id}/review"),
        &reader,
    )
    .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let status = status.json();
    assert_eq!(status["status"], "draft");
    assert_eq!(status["review"]["state"], "pending");
    assert_eq!(
        status["review"]["requested_by"],
        "API token release-pipeline"
    );
    assert_eq!(status["review"]["comment"], "nightly build 812");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn no_one_person_brings_a_gated_version_to_production_alone(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let lead_id: uuid::Uuid =
        sqlx::query_scalar("select user_id from app_user where role = 'lead'")
            .fetch_one(&pool)
            .await
            .expect("the first lead");

    // A pipeline token the first lead created asks for production: that lead is the requester.
    let id = version(&router, &member, &lead, "llm-chat", true).await;
    let (token_id, writer) = token(&pool, "release-pipeline", &[Scope::Write]).await;
    sqlx::query("update api_token set created_by = $1 where api_token_id = $2")
        .bind(lead_id)
        .bind(token_id)
        .execute(&pool)
        .await
        .expect("creator");
    let asked = send(
        &router,
        Request::post(format!("/api/v1/model-versions/{id}/promotion"))
            .header(header::AUTHORIZATION, format!("Bearer {writer}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .expect("request"),
    )
    .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.body);
    let request = asked.json()["promotion_request_id"]
        .as_str()
        .expect("request")
        .to_owned();
    let own = call::<ReviewPromotion>(
        &router,
        Some(&lead),
        &review_form(&request, "approve", "ship it"),
    )
    .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.body);
    assert_eq!(status_of(&pool, &id).await, "draft");
    let approved = call::<ReviewPromotion>(
        &router,
        Some(&admin),
        &review_form(&request, "approve", "looked at the cost"),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(status_of(&pool, &id).await, "production");
}
