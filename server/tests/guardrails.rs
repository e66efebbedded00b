//! Guardrails through the real router: who may write rules and waive breaches, a breach found in
//! measured telemetry with the figure that broke the rule, a waiver that stops applying when it
//! expires, one alert per rule, deployment and week, and the review gate asking a lead.

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::guardrails::{CreateGuardrail, DeleteGuardrail, LoadGuardrails, WaiveBreach};
use app::reviews::RequestPromotion;
use app::tokens::Scope;

/// A day of one H100 held every hour at `utilization` by `deployment`, linked to a model of the
/// home team; the deployment's id.
async fn measured(
    pool: &PgPool,
    router: &axum::Router,
    deployment: &str,
    utilization: f64,
) -> uuid::Uuid {
    let samples: Vec<Value> = (1..=24)
        .map(|hours_ago| {
            json!({
                "ts": (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339(),
                "deployment": deployment, "gpu_uuid": format!("GPU-{deployment}"), "gpu_index": 0,
                "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 3600,
                "utilization_pct": utilization, "memory_used_mib": 1000, "power_watts": 200,
                "requests": 1000
            })
        })
        .collect();
    let (_, ingest) = token(pool, &format!("agent-{deployment}"), &[Scope::Ingest]).await;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-1", "samples": samples });
    let stored = api_post(router, "/api/v1/telemetry", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);
    let id: uuid::Uuid = sqlx::query_scalar("select deployment_id from deployment where key = $1")
        .bind(deployment)
        .fetch_one(pool)
        .await
        .expect("deployment");
    home_deployment(pool, id).await;
    id
}

fn rule_form<'a>(name: &'a str, conditions: &'a str) -> [(&'a str, &'a str); 6] {
    [
        ("name", name),
        ("conditions", conditions),
        ("tier", ""),
        ("team_id", ""),
        ("task", ""),
        ("mode", "real_time"),
    ]
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_breach_names_its_figure_until_a_lead_waives_it(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let idle = measured(&pool, &router, "chat-idle", 10.0).await;
    measured(&pool, &router, "chat-busy", 60.0).await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;

    // Only admins write rules.
    let form = rule_form("Real-time GPUs kept busy", "mean_utilization >= 30%");
    for caller in [&viewer, &member, &lead] {
        let refused = call::<CreateGuardrail>(&router, Some(caller), &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    assert_eq!(count(&pool, "guardrail").await, 0);
    // A bad condition is refused by field and line, and nothing is written.
    let bad = call::<CreateGuardrail>(
        &router,
        Some(&admin),
        &rule_form("Bad", "pricing = spot\nmean_utilization >= 130%"),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("conditions") && bad.body.contains("line 2"),
        "{}",
        bad.body
    );
    assert_eq!(count(&pool, "guardrail").await, 0);
    let created = call::<CreateGuardrail>(&router, Some(&admin), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let guardrail_id = created.json().as_str().expect("id").to_owned();
    let twice = call::<CreateGuardrail>(&router, Some(&admin), &form).await;
    assert_eq!(
        twice.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twice.body
    );

    // The idle deployment breaks it, with its figure; the busy one does not.
    let listed = call::<LoadGuardrails>(&router, Some(&viewer), &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let breaches = listed.json()["breaches"].clone();
    assert_eq!(breaches.as_array().map(Vec::len), Some(1), "{breaches}");
    assert_eq!(breaches[0]["deployment"], "chat-idle");
    assert_eq!(
        breaches[0]["broken"][0],
        "mean utilization 10% (must be ≥ 30%)"
    );
    let page = get(&router, "/guardrails", Some(&viewer)).await;
    assert!(
        page.body.contains("mean utilization 10% (must be ≥ 30%)"),
        "{}",
        page.body
    );

    // The alert loop raises one alert for it, however often it runs in the week.
    let now = app::clock::now();
    assert_eq!(
        app::alerts::store::evaluate(&pool, now)
            .await
            .expect("evaluate"),
        1
    );
    assert_eq!(
        app::alerts::store::evaluate(&pool, now)
            .await
            .expect("evaluate"),
        0
    );
    let message: String = sqlx::query_scalar("select message from alert where kind = 'guardrail'")
        .fetch_one(&pool)
        .await
        .expect("alert");
    assert_eq!(
        message,
        "chat-idle breaks guardrail “Real-time GPUs kept busy”: mean utilization 10% (must be ≥ 30%)"
    );

    // Asking for production with the breach needs a lead, and the request lists the breach.
    let version_id: String = sqlx::query_scalar(
        "select model_version_id::text from deployment where deployment_id = $1",
    )
    .bind(idle)
    .fetch_one(&pool)
    .await
    .expect("version");
    let asked = call::<RequestPromotion>(
        &router,
        Some(&member),
        &[("model_version_id", &version_id), ("comment", "")],
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(
        asked.body.contains("Pending") && asked.body.contains("Real-time GPUs kept busy"),
        "{}",
        asked.body
    );

    // Members cannot waive; a lead can, with a reason and a date after today.
    let today = now.date_naive();
    let until = (today + chrono::TimeDelta::days(14)).to_string();
    let idle_id = idle.to_string();
    let waiver = [
        ("guardrail_id", guardrail_id.as_str()),
        ("deployment_id", idle_id.as_str()),
        ("reason", "Launch week: traffic not ramped up yet"),
        ("until", until.as_str()),
    ];
    let refused = call::<WaiveBreach>(&router, Some(&member), &waiver).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let today_text = today.to_string();
    let mut past = waiver;
    past[3] = ("until", today_text.as_str());
    let late = call::<WaiveBreach>(&router, Some(&lead), &past).await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.body
    );
    assert!(late.body.contains("after today"), "{}", late.body);
    let waived = call::<WaiveBreach>(&router, Some(&lead), &waiver).await;
    assert_eq!(waived.status, StatusCode::OK, "{}", waived.body);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'guardrail.waive'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 1);
    let listed = call::<LoadGuardrails>(&router, Some(&viewer), &[])
        .await
        .json();
    assert_eq!(
        listed["breaches"][0]["waiver"]["reason"],
        "Launch week: traffic not ramped up yet"
    );

    // While the waiver holds, no alert next week; once it expires, the breach counts again.
    let next_week = now + chrono::TimeDelta::days(7);
    assert_eq!(
        app::alerts::store::evaluate(&pool, next_week)
            .await
            .expect("evaluate"),
        0
    );
    let after = now + chrono::TimeDelta::days(21);
    let breaches = app::guardrails::store::breaches(&pool, after)
        .await
        .expect("breaches");
    assert_eq!(breaches.len(), 1);
    assert_eq!(
        breaches[0].waiver, None,
        "an expired waiver no longer applies"
    );

    // Deleting the rule is the admin's too.
    let delete = [("guardrail_id", guardrail_id.as_str())];
    let refused = call::<DeleteGuardrail>(&router, Some(&lead), &delete).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let deleted = call::<DeleteGuardrail>(&router, Some(&admin), &delete).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(count(&pool, "guardrail").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_cross_site_post_writes_no_rule(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let refused = call_from::<CreateGuardrail>(
        &router,
        Some(&admin),
        &rule_form("Busy", "mean_utilization >= 30%"),
        "cross-site",
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(count(&pool, "guardrail").await, 0);
}
