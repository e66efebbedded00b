//! `POST /api/v1/telemetry` through the real router and a fresh database.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use std::io::Write;

use crate::common::*;
use app::audit::Actor;
use app::tokens::Scope;

async fn token(pool: &PgPool, scopes: &[Scope]) -> String {
    let name = format!("agent-{}", uuid::Uuid::new_v4());
    app::tokens::store::create(pool, &Actor::System, &name, scopes, None)
        .await
        .expect("token")
        .secret
}

fn sample(ts: &str, deployment: &str, utilization: f64, requests: i64) -> Value {
    json!({
        "ts": ts, "deployment": deployment, "gpu_uuid": "GPU-8a", "gpu_index": 0,
        "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 10, "utilization_pct": utilization,
        "memory_used_mib": 40213, "power_watts": 600, "requests": requests,
        "latency_ms": { "p50": 12.1, "p95": 40.0, "p99": 80.3 }
    })
}

fn batch(batch_id: &str, samples: Vec<Value>) -> Value {
    json!({ "batch_id": batch_id, "host": "gpu-node-17", "samples": samples })
}

const BATCH_ID: &str = "5f0c1a52-6a47-4c39-9d7e-0e1f2a3b4c5d";

fn recent(minutes_ago: i64) -> String {
    (app::clock::now() - chrono::TimeDelta::minutes(minutes_ago)).to_rfc3339()
}

async fn post(router: &axum::Router, token: &str, body: Vec<u8>, gzip: bool) -> Reply {
    let mut request = Request::post("/api/v1/telemetry")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json");
    if gzip {
        request = request.header(header::CONTENT_ENCODING, "gzip");
    }
    send(router, request.body(Body::from(body)).expect("request")).await
}

async fn post_json(router: &axum::Router, token: &str, body: &Value) -> Reply {
    post(
        router,
        token,
        serde_json::to_vec(body).expect("json"),
        false,
    )
    .await
}

async fn scalar(pool: &PgPool, sql: &str) -> f64 {
    sqlx::query_scalar::<_, f64>(sql)
        .fetch_one(pool)
        .await
        .expect(sql)
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_batch_is_stored_with_its_hourly_sums_and_new_deployments(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let body = batch(
        BATCH_ID,
        vec![
            sample(&recent(30), "fraud-lgbm-v3", 80.0, 1000),
            sample(&recent(20), "fraud-lgbm-v3", 5.0, 0),
            sample(&recent(10), "search-bert-v1", 50.0, 500),
        ],
    );
    let reply = post_json(&router, &token, &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(reply.json()["accepted"], 3);
    assert_eq!(reply.json()["duplicate"], false);
    assert_eq!(
        reply.json()["new_deployments"],
        json!(["fraud-lgbm-v3", "search-bert-v1"])
    );

    assert_eq!(count(&pool, "telemetry_sample").await, 3);
    let unassigned: i64 =
        sqlx::query_scalar("select count(*) from deployment where model_version_id is null")
            .fetch_one(&pool)
            .await
            .expect("deployments");
    assert_eq!(unassigned, 2);
    // The hourly sums equal the samples they sum, whichever hours the samples fell in.
    let gpu_seconds = scalar(&pool, "select sum(gpu_seconds) from telemetry_hourly").await;
    assert_eq!(gpu_seconds, 30.0);
    let requests = scalar(&pool, "select sum(requests)::float8 from telemetry_hourly").await;
    assert_eq!(requests, 1500.0);
    let idle = scalar(&pool, "select sum(idle_gpu_seconds) from telemetry_hourly").await;
    assert_eq!(idle, 10.0);
    let energy = scalar(&pool, "select sum(energy_joules) from telemetry_hourly").await;
    assert_eq!(energy, 18_000.0);
    let devices: i64 =
        sqlx::query_scalar("select count(*) from gpu_device where host = 'gpu-node-17'")
            .fetch_one(&pool)
            .await
            .expect("devices");
    assert_eq!(devices, 1);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_retried_batch_is_stored_once_and_a_reused_id_is_a_conflict(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let body = batch(
        BATCH_ID,
        vec![sample(&recent(5), "fraud-lgbm-v3", 80.0, 1000)],
    );
    assert_eq!(
        post_json(&router, &token, &body).await.status,
        StatusCode::ACCEPTED
    );

    let retry = post_json(&router, &token, &body).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    assert_eq!(retry.json()["duplicate"], true);
    assert_eq!(count(&pool, "telemetry_sample").await, 1);
    assert_eq!(
        scalar(&pool, "select sum(requests)::float8 from telemetry_hourly").await,
        1000.0
    );

    let other = batch(
        BATCH_ID,
        vec![sample(&recent(5), "fraud-lgbm-v3", 80.0, 999)],
    );
    let conflict = post_json(&router, &token, &other).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);
    assert_eq!(conflict.json()["status"], 409);
    assert_eq!(count(&pool, "telemetry_sample").await, 1);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn an_invalid_batch_lists_every_bad_path_and_stores_nothing(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let mut bad = sample(&recent(1), "fraud-lgbm-v3", 80.0, 10);
    bad["utilization_pct"] = json!(140);
    bad["requests"] = json!(-3);
    let body = batch(BATCH_ID, vec![sample(&recent(1), "ok", 1.0, 1), bad]);
    let reply = post_json(&router, &token, &body).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(
        reply
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let paths: Vec<String> = reply.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paths, ["samples[1].utilization_pct", "samples[1].requests"]);
    assert_eq!(count(&pool, "telemetry_sample").await, 0);
    assert_eq!(count(&pool, "telemetry_batch").await, 0);
    assert_eq!(count(&pool, "deployment").await, 0);

    let malformed = post(&router, &token, b"{\"batch_id\": ".to_vec(), false).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["status"], 400);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn only_a_live_token_with_the_ingest_scope_may_post(pool: PgPool) {
    let router = router(pool.clone());
    let body = batch(
        BATCH_ID,
        vec![sample(&recent(1), "fraud-lgbm-v3", 80.0, 10)],
    );
    let reader = token(&pool, &[Scope::Read, Scope::Write]).await;
    let refused = post_json(&router, &reader, &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("ingest"));

    let created =
        app::tokens::store::create(&pool, &Actor::System, "old-agent", &[Scope::Ingest], None)
            .await
            .expect("token");
    app::tokens::store::revoke(&pool, &Actor::System, created.token.api_token_id)
        .await
        .expect("revoke");
    assert_eq!(
        post_json(&router, &created.secret, &body).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count(&pool, "telemetry_sample").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn gzip_bodies_are_accepted_and_oversized_ones_refused(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let body = batch(
        BATCH_ID,
        vec![sample(&recent(1), "fraud-lgbm-v3", 80.0, 10)],
    );
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&serde_json::to_vec(&body).expect("json"))
        .expect("gzip");
    let reply = post(&router, &token, encoder.finish().expect("gzip"), true).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);

    // 16 MiB is the default limit; this body is larger.
    let huge = vec![b' '; 17 << 20];
    let refused = post(&router, &token, huge, false).await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["status"], 413);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn samples_older_than_the_raw_retention_are_refused_and_make_no_partition(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let partitions = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from pg_inherits i join pg_class p on p.oid = i.inhparent where p.relname = 'telemetry_sample'",
        )
        .fetch_one(&pool)
        .await
        .expect("partitions")
    };
    let before = partitions().await;
    // One sample for each of 400 days in the past, and one recent: all refused together.
    let mut samples: Vec<Value> = (31..431)
        .map(|days| {
            let ts = (app::clock::now() - chrono::TimeDelta::days(days)).to_rfc3339();
            sample(&ts, "fraud-lgbm-v3", 80.0, 100)
        })
        .collect();
    samples.push(sample(&recent(1), "fraud-lgbm-v3", 80.0, 100));
    let refused = post_json(&router, &token, &batch(BATCH_ID, samples)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let errors = refused.json()["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(errors[0]["path"], "samples[0].ts");
    let message = errors[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("older than the 30 days of raw telemetry kept"),
        "{message}"
    );
    assert_eq!(count(&pool, "telemetry_sample").await, 0);
    assert_eq!(partitions().await, before, "no partition for a refused day");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn retention_drops_old_raw_samples_and_keeps_the_rollups(pool: PgPool) {
    // Kept 60 days when the sample came, 30 when retention runs.
    let router = router_configured(pool.clone(), |c| c.telemetry.retention_days = 60);
    let token = token(&pool, &[Scope::Ingest]).await;
    let old = (app::clock::now() - chrono::TimeDelta::days(40)).to_rfc3339();
    let body = batch(
        BATCH_ID,
        vec![
            sample(&old, "fraud-lgbm-v3", 80.0, 100),
            sample(&recent(1), "fraud-lgbm-v3", 80.0, 200),
        ],
    );
    assert_eq!(
        post_json(&router, &token, &body).await.status,
        StatusCode::ACCEPTED
    );
    app::telemetry::store::create_partitions_ahead(&pool, 7)
        .await
        .expect("partitions ahead");

    let dropped = app::telemetry::store::drop_expired_partitions(&pool, 30)
        .await
        .expect("retention");
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(count(&pool, "telemetry_sample").await, 1);
    assert_eq!(
        scalar(&pool, "select sum(requests)::float8 from telemetry_hourly").await,
        300.0,
        "rollups outlive the raw samples"
    );
    let partitions: i64 = sqlx::query_scalar(
        "select count(*) from pg_inherits i join pg_class p on p.oid = i.inhparent where p.relname = 'telemetry_sample'",
    )
    .fetch_one(&pool)
    .await
    .expect("partitions");
    assert!(
        partitions >= 8,
        "today and the next seven days exist: {partitions}"
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_saturated_server_sheds_load_with_retry_after(pool: PgPool) {
    let router = router_configured(pool.clone(), |config| config.ingest_concurrency = 1);
    let token = token(&pool, &[Scope::Ingest]).await;
    // A slow client holds the only ingest slot: its body never finishes.
    let never = futures_util::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let slow = Request::post("/api/v1/telemetry")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(never))
        .expect("request");
    let held = tokio::spawn(send_owned(router.clone(), slow));
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let body = batch(
        BATCH_ID,
        vec![sample(&recent(1), "fraud-lgbm-v3", 80.0, 10)],
    );
    // Without load shedding this request would queue behind the slow one for ever.
    let shed = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        post_json(&router, &token, &body),
    )
    .await
    .expect("a saturated server answers at once instead of queueing");
    assert_eq!(shed.status, StatusCode::TOO_MANY_REQUESTS, "{}", shed.body);
    assert_eq!(
        shed.headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(shed.json()["status"], 429);
    held.abort();
    let _ = held.await;
    // With the slot free again, the batch goes in.
    assert_eq!(
        post_json(&router, &token, &body).await.status,
        StatusCode::ACCEPTED
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn concurrent_batches_that_bring_the_same_new_deployments_are_all_stored(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let keys: Vec<String> = (0..20).map(|i| format!("new-model-{i}")).collect();
    let posts: Vec<_> = (0..8)
        .map(|n| {
            let samples = keys
                .iter()
                .map(|key| sample(&recent(n + 1), key, 50.0, 10))
                .collect();
            let body = batch(&uuid::Uuid::new_v4().to_string(), samples);
            let (router, token) = (router.clone(), token.clone());
            tokio::spawn(async move { post_json(&router, &token, &body).await })
        })
        .collect();
    for post in posts {
        let reply = post.await.expect("task");
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    }
    assert_eq!(
        scalar(&pool, "select count(*)::float8 from deployment").await,
        20.0
    );
    assert_eq!(
        scalar(&pool, "select count(*)::float8 from telemetry_sample").await,
        160.0
    );
}

/// Every field of a sample is stored as it was sent (samples go in as COPY's binary rows): the
/// moment to the microsecond, ids, text with quotes, commas and accents, whole and fractional
/// numbers, and a latency percentile left out as NULL.
#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_sample_is_stored_field_for_field(pool: PgPool) {
    let router = router(pool.clone());
    let token = token(&pool, &[Scope::Ingest]).await;
    let at = chrono::DurationRound::duration_trunc(
        app::clock::now() - chrono::TimeDelta::minutes(15),
        chrono::TimeDelta::seconds(1),
    )
    .expect("a second")
        + chrono::TimeDelta::microseconds(250);
    let body = json!({
        "batch_id": BATCH_ID, "host": "gpu-node \"17\", rack B",
        "samples": [{
            "ts": at.to_rfc3339(), "deployment": "fraud-lgbm-v3", "gpu_uuid": "GPU-8a,é",
            "gpu_index": 3, "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 2.5,
            "utilization_pct": 87.5, "memory_used_mib": 40213, "power_watts": 612.3,
            "requests": 1520, "latency_ms": { "p95": 40.2 }
        }]
    });
    let reply = post_json(&router, &token, &body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    #[derive(Debug, PartialEq, sqlx::FromRow)]
    struct Stored {
        ts: chrono::DateTime<chrono::Utc>,
        key: String,
        batch_id: uuid::Uuid,
        host: String,
        gpu_uuid: String,
        gpu_index: i32,
        gpu_model: String,
        interval_s: f64,
        utilization_pct: f64,
        memory_used_mib: f64,
        power_watts: f64,
        requests: i64,
        latency_p50_ms: Option<f64>,
        latency_p95_ms: Option<f64>,
        latency_p99_ms: Option<f64>,
    }
    let stored: Stored = sqlx::query_as(
        "select s.ts, d.key, s.batch_id, s.host, s.gpu_uuid, s.gpu_index, s.gpu_model, s.interval_s,
                s.utilization_pct, s.memory_used_mib, s.power_watts, s.requests, s.latency_p50_ms,
                s.latency_p95_ms, s.latency_p99_ms
           from telemetry_sample s join deployment d using (deployment_id)",
    )
    .fetch_one(&pool)
    .await
    .expect("the stored sample");
    assert_eq!(
        stored,
        Stored {
            ts: at,
            key: "fraud-lgbm-v3".into(),
            batch_id: BATCH_ID.parse().expect("uuid"),
            host: "gpu-node \"17\", rack B".into(),
            gpu_uuid: "GPU-8a,é".into(),
            gpu_index: 3,
            gpu_model: "NVIDIA H100 80GB HBM3".into(),
            interval_s: 2.5,
            utilization_pct: 87.5,
            memory_used_mib: 40213.0,
            power_watts: 612.3,
            requests: 1520,
            latency_p50_ms: None,
            latency_p95_ms: Some(40.2),
            latency_p99_ms: None,
        }
    );
}
