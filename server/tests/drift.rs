//! `POST /api/v1/drift`, drift states, thresholds and the drift charts through the real router.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::drift::{LoadDeploymentDrift, LoadDrift, ResetDriftThreshold, SetDriftThreshold};
use app::tokens::Scope;

const BATCH_ID: &str = "7b4e1a52-6a47-4c39-9d7e-0e1f2a3b4c5d";

fn recent(hours_ago: i64) -> String {
    (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339()
}

fn body(measurements: Value) -> Value {
    json!({ "batch_id": BATCH_ID, "measurements": measurements })
}

async fn post(router: &axum::Router, token: &str, body: &Value) -> Reply {
    let request = Request::post("/api/v1/drift")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(body).expect("json")))
        .expect("request");
    send(router, request).await
}

fn drifting_amounts() -> Value {
    body(json!([
        { "ts": recent(30), "deployment": "fraud-lgbm-v3", "kind": "data",
          "feature": "amount_usd", "metric": "psi", "value": 0.05 },
        { "ts": recent(2), "deployment": "fraud-lgbm-v3", "kind": "data",
          "feature": "amount_usd", "metric": "psi", "value": 0.31 },
        { "ts": recent(2), "deployment": "fraud-lgbm-v3", "kind": "data",
          "feature": "country", "histogram": { "reference": [50, 30, 20], "current": [48, 31, 21] } },
        { "ts": recent(2), "deployment": "fraud-lgbm-v3", "kind": "performance",
          "metric": "f1", "value": 0.9, "samples": 1200 }
    ]))
}

async fn deployment_id(pool: &PgPool, key: &str) -> uuid::Uuid {
    sqlx::query_scalar("select deployment_id from deployment where key = $1")
        .bind(key)
        .fetch_one(pool)
        .await
        .expect("deployment")
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_batch_is_stored_once_with_histograms_turned_into_statistics(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "monitor", &[Scope::Ingest]).await;
    let batch = drifting_amounts();
    let stored = post(&router, &ingest, &batch).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);
    assert_eq!(
        stored.json()["accepted"],
        6,
        "2 values, 3 from the histogram, 1 performance"
    );
    assert_eq!(stored.json()["new_deployments"], json!(["fraud-lgbm-v3"]));
    let computed: Vec<String> =
        sqlx::query_scalar("select metric from drift_measurement where computed order by metric")
            .fetch_all(&pool)
            .await
            .expect("rows");
    assert_eq!(computed, ["js", "ks", "psi"]);

    let again = post(&router, &ingest, &batch).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(count(&pool, "drift_measurement").await, 6);

    let mut other = batch.clone();
    other["measurements"][0]["value"] = json!(0.06);
    let conflict = post(&router, &ingest, &other).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert_eq!(count(&pool, "drift_measurement").await, 6);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_bad_batch_names_every_field_and_stores_nothing(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "monitor", &[Scope::Ingest]).await;
    let bad = body(json!([
        { "ts": recent(1), "deployment": "d", "kind": "data", "feature": "x", "metric": "psi", "value": 0.1 },
        { "ts": recent(1), "deployment": "d", "kind": "data", "feature": "x",
          "histogram": { "reference": [1, 2], "current": [1, 2, 3] } },
        { "ts": "soon", "deployment": "d", "kind": "performance", "metric": "f1" }
    ]));
    let reply = post(&router, &ingest, &bad).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let problem = reply.json();
    let paths: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(
        paths.contains(&"measurements[1].histogram.current"),
        "{paths:?}"
    );
    assert!(paths.contains(&"measurements[2].ts"), "{paths:?}");
    assert!(paths.contains(&"measurements[2].value"), "{paths:?}");
    assert_eq!(count(&pool, "drift_measurement").await, 0);
    assert_eq!(count(&pool, "drift_batch").await, 0);
    assert_eq!(
        count(&pool, "deployment").await,
        0,
        "nothing registered either"
    );

    let (_, read) = token(&pool, "reader", &[Scope::Read]).await;
    assert_eq!(
        post(&router, &read, &drifting_amounts()).await.status,
        StatusCode::FORBIDDEN
    );
    let (id, revoked) = token(&pool, "old", &[Scope::Ingest]).await;
    app::tokens::store::revoke(&pool, &app::audit::Actor::System, id)
        .await
        .expect("revoke");
    assert_eq!(
        post(&router, &revoked, &drifting_amounts()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_state_follows_the_thresholds_leads_set(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "monitor", &[Scope::Ingest]).await;
    assert_eq!(
        post(&router, &ingest, &drifting_amounts()).await.status,
        StatusCode::ACCEPTED
    );
    let id = deployment_id(&pool, "fraud-lgbm-v3").await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    home_deployment(&pool, id).await;

    let view = call::<LoadDrift>(
        &router,
        Some(&viewer),
        &[("range", "7d"), ("from", ""), ("to", "")],
    )
    .await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let row = &view.json()["rows"][0];
    assert_eq!(row["key"], "fraud-lgbm-v3");
    assert_eq!(
        row["state"], "drifting",
        "PSI 0.31 is past the default alert level 0.25"
    );
    assert!(
        row["findings"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("PSI of amount_usd is 0.310, past the alert level 0.250")),
        "{row}"
    );

    let raise = [
        ("deployment_id", id.to_string()),
        ("metric", "psi".into()),
        ("warn", "0.3".into()),
        ("alert", "0.5".into()),
    ];
    let raise: Vec<(&str, &str)> = raise.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for caller in [&viewer, &member] {
        assert_eq!(
            call::<SetDriftThreshold>(&router, Some(caller), &raise)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        call_from::<SetDriftThreshold>(&router, Some(&lead), &raise, "cross-site")
            .await
            .status,
        StatusCode::FORBIDDEN,
        "a cross-site POST is refused"
    );
    assert_eq!(count(&pool, "drift_threshold").await, 0);
    let id_text = id.to_string();
    let bad = call::<SetDriftThreshold>(
        &router,
        Some(&lead),
        &[
            ("deployment_id", &id_text),
            ("metric", "psi"),
            ("warn", "0.5"),
            ("alert", "0.2"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("must be at least the warning level"),
        "{}",
        bad.body
    );
    let set = call::<SetDriftThreshold>(&router, Some(&lead), &raise).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    let one = call::<LoadDeploymentDrift>(
        &router,
        Some(&viewer),
        &[
            ("key", "fraud-lgbm-v3"),
            ("range", "30d"),
            ("from", ""),
            ("to", ""),
        ],
    )
    .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let one = one.json();
    assert_eq!(
        one["row"]["state"], "warning",
        "0.31 is past the new warning level only"
    );
    let psi = one["thresholds"]
        .as_array()
        .expect("thresholds")
        .iter()
        .find(|t| t["metric"] == "psi")
        .cloned()
        .expect("psi");
    assert_eq!(psi["custom"], true);
    assert_eq!(psi["alert"], 0.5);
    assert!(
        one["series"].as_array().is_some_and(|s| s.len() == 5),
        "{}",
        one["series"]
    );

    let reset = call::<ResetDriftThreshold>(
        &router,
        Some(&lead),
        &[("deployment_id", &id_text), ("metric", "psi")],
    )
    .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(count(&pool, "drift_threshold").await, 0);
    let audit: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action like 'drift.threshold.%'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audit, 2);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_drifting_deployment_alerts_once_a_week(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "monitor", &[Scope::Ingest]).await;
    assert_eq!(
        post(&router, &ingest, &drifting_amounts()).await.status,
        StatusCode::ACCEPTED
    );
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
    let message: String = sqlx::query_scalar("select message from alert where kind = 'drift'")
        .fetch_one(&pool)
        .await
        .expect("alert");
    assert!(
        message.starts_with("fraud-lgbm-v3 is drifting: PSI of amount_usd"),
        "{message}"
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_drift_charts_are_for_signed_in_people(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "monitor", &[Scope::Ingest]).await;
    assert_eq!(
        post(&router, &ingest, &drifting_amounts()).await.status,
        StatusCode::ACCEPTED
    );
    let chart =
        "/charts/drift/deployments/fraud-lgbm-v3.svg?range=7d&metric=psi&feature=amount_usd&theme=dark"
            .to_owned();
    assert_eq!(
        get(&router, &chart, None).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        get(&router, "/charts/drift/quadrant.svg?range=7d", None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The sign-in redirect is for GET; any other way to the files without a session is refused.
    for path in [chart.as_str(), "/reports/tco.csv", "/bills/export.csv"] {
        let head = send(&router, Request::head(path).body(Body::empty()).unwrap()).await;
        assert_eq!(head.status, StatusCode::UNAUTHORIZED, "HEAD {path}");
    }
    let viewer = signed_in(&pool, Role::Viewer).await;
    let svg = get(&router, &chart, Some(&viewer)).await;
    assert_eq!(svg.status, StatusCode::OK, "{}", svg.body);
    assert!(svg
        .body
        .contains("<title>fraud-lgbm-v3: PSI of amount_usd and cost per 1,000 requests</title>"));
    assert!(
        svg.body.contains("warn 0.100, alert 0.250"),
        "thresholds are drawn and described"
    );
    let quadrant = get(
        &router,
        "/charts/drift/quadrant.svg?range=7d&theme=light",
        Some(&viewer),
    )
    .await;
    assert_eq!(quadrant.status, StatusCode::OK);
    assert!(quadrant.body.contains("<desc>"));
    for by in ["team", "model"] {
        let spend = get(
            &router,
            &format!("/charts/drift/spend.svg?range=quarter&by={by}&theme=dark"),
            Some(&viewer),
        )
        .await;
        assert_eq!(spend.status, StatusCode::OK, "{}", spend.body);
        assert!(spend.body.starts_with("<svg"));
    }
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_catalog_and_the_model_page_carry_the_drift_state(pool: PgPool) {
    let router = router(pool.clone());
    let (_, ingest) = token(&pool, "monitor", &[Scope::Ingest]).await;
    assert_eq!(
        post(&router, &ingest, &drifting_amounts()).await.status,
        StatusCode::ACCEPTED
    );
    let model: uuid::Uuid =
        sqlx::query_scalar("insert into model (name) values ('fraud-lgbm') returning model_id")
            .fetch_one(&pool)
            .await
            .expect("model");
    sqlx::query(
        "with v as (insert into model_version (model_id, version) values ($1, 'v3') returning model_version_id)
         update deployment set model_version_id = (select model_version_id from v) where key = 'fraud-lgbm-v3'",
    )
    .bind(model)
    .execute(&pool)
    .await
    .expect("link");
    let viewer = signed_in(&pool, Role::Viewer).await;
    let catalog = call::<app::catalog::ListCatalog>(&router, Some(&viewer), &[]).await;
    assert_eq!(catalog.status, StatusCode::OK, "{}", catalog.body);
    assert_eq!(catalog.json()[0]["drift"], "drifting");
    let detail = call::<app::catalog::LoadModel>(
        &router,
        Some(&viewer),
        &[("model_id", &model.to_string())],
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    let deployment = &detail.json()["deployments"][0];
    assert_eq!(deployment["drift"], "drifting");
    assert!(
        deployment["drift_finding"]
            .as_str()
            .is_some_and(|f| f.starts_with("PSI of amount_usd")),
        "{deployment}"
    );
}
