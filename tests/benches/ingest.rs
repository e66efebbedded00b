//! `make bench`: telemetry ingest through HTTP against raw `COPY` of the same rows into the same
//! table (as CSV, and in the binary format ingest sends), in one run on one generated data set; then, over 10,000,000 samples, the deployment
//! page's query, the overview and drift-versus-cost figures beside their whole pages rendered by the
//! real server, and the quarter's TCO figures beside the XLSX export written by `pareto report tco`.
//! Sizes: BENCH_INGEST_SAMPLES (500,000), BENCH_CHART_SAMPLES (10,000,000).

use chrono::{DateTime, TimeDelta, Utc};
use pareto_tests::{pareto, text, Server, TestDb};
use serde_json::json;
use sqlx::postgres::PgPoolOptions;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BATCH: usize = 1_000;
const SENDERS: usize = 4;
const DEPLOYMENTS: usize = 50;

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

struct Row {
    ts: DateTime<Utc>,
    deployment: usize,
    gpu: usize,
    utilization: f64,
    requests: i64,
}

fn rows(count: usize, end: DateTime<Utc>) -> Vec<Row> {
    // Each deployment has 2 GPUs reporting every 10 s, going back from `end`.
    (0..count)
        .map(|i| {
            let deployment = i % DEPLOYMENTS;
            let gpu = (i / DEPLOYMENTS) % 2;
            let step = i / (DEPLOYMENTS * 2);
            Row {
                ts: end - TimeDelta::seconds(10 * step as i64),
                deployment,
                gpu,
                utilization: (i % 97) as f64,
                requests: (i % 1_000) as i64,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let ingest_samples = env_size("BENCH_INGEST_SAMPLES", 500_000);
    let chart_samples = env_size("BENCH_CHART_SAMPLES", 10_000_000);
    let db = TestDb::new().await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&db.url())
        .await
        .expect("database");
    let created = pareto(
        &db,
        &["token", "create", "--name", "bench", "--scope", "ingest"],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    let server = Server::start(&db).await;
    println!(
        "pareto bench: {} (binary {})",
        server.base_url,
        pareto_tests::binary().display()
    );

    let end = Utc::now() - TimeDelta::minutes(1);
    let data = rows(ingest_samples, end);

    // --- baseline: raw COPY of the same rows into the same table --------------------------
    let days = data.iter().map(|r| r.ts.date_naive()).collect();
    app::telemetry::store::ensure_partitions(&pool, &days)
        .await
        .expect("partitions");
    let mut deployment_ids = Vec::new();
    for d in 0..DEPLOYMENTS {
        let id: uuid::Uuid =
            sqlx::query_scalar("insert into deployment (key) values ($1) returning deployment_id")
                .bind(format!("bench-{d}"))
                .fetch_one(&pool)
                .await
                .expect("deployment");
        deployment_ids.push(id);
    }
    let batch_id = uuid::Uuid::new_v4();
    let mut csv = String::with_capacity(data.len() * 160);
    for r in &data {
        csv.push_str(&format!(
            "{},{},{batch_id},bench-host,GPU-{}-{},{},NVIDIA H100 80GB HBM3,10,{},40000,500,{},10,30,60\n",
            r.ts.to_rfc3339(),
            deployment_ids[r.deployment],
            r.deployment,
            r.gpu,
            r.gpu,
            r.utilization,
            r.requests
        ));
    }
    let started = Instant::now();
    let mut connection = pool.acquire().await.expect("connection");
    let mut copy = connection
        .copy_in_raw(app::telemetry::store::SAMPLES_COPY)
        .await
        .expect("copy");
    copy.send(csv.as_bytes()).await.expect("copy data");
    copy.finish().await.expect("copy finish");
    let copy_time = started.elapsed();
    drop(connection);
    sqlx::query("truncate telemetry_sample")
        .execute(&pool)
        .await
        .expect("truncate");
    // The same rows again, in the binary format ingest sends them in.
    let keys: Vec<String> = (0..DEPLOYMENTS).map(|d| format!("bench-{d}")).collect();
    let ids: std::collections::BTreeMap<&str, uuid::Uuid> = keys
        .iter()
        .map(String::as_str)
        .zip(deployment_ids.iter().copied())
        .collect();
    let binary = app::telemetry::store::samples_binary(
        &app::telemetry::ingest::Batch {
            batch_id,
            host: "bench-host".into(),
            samples: data
                .iter()
                .map(|r| app::telemetry::ingest::Sample {
                    ts: r.ts,
                    deployment: Some(keys[r.deployment].clone()),
                    pod: None,
                    cpu_cores: None,
                    gpu_uuid: format!("GPU-{}-{}", r.deployment, r.gpu),
                    gpu_index: r.gpu as i32,
                    gpu_model: "NVIDIA H100 80GB HBM3".into(),
                    interval_s: 10.0,
                    utilization_pct: r.utilization,
                    memory_used_mib: 40000.0,
                    power_watts: 500.0,
                    requests: r.requests,
                    latency: Some(app::telemetry::ingest::Latency {
                        p50: Some(10.0),
                        p95: Some(30.0),
                        p99: Some(60.0),
                    }),
                    tokens: None,
                    ttft: None,
                    slice: None,
                })
                .collect(),
        },
        &ids,
    );
    let started = Instant::now();
    let mut connection = pool.acquire().await.expect("connection");
    let mut copy = connection
        .copy_in_raw(
            "copy telemetry_sample (ts, deployment_id, batch_id, host, gpu_uuid, gpu_index, gpu_model, \
             interval_s, utilization_pct, memory_used_mib, power_watts, requests, latency_p50_ms, \
             latency_p95_ms, latency_p99_ms, input_tokens, output_tokens, cached_input_tokens, \
             ttft_p50_ms, ttft_p95_ms, ttft_p99_ms, gpu_share) from stdin with (format binary)",
        )
        .await
        .expect("copy");
    copy.send(binary).await.expect("copy data");
    copy.finish().await.expect("copy finish");
    let binary_copy_time = started.elapsed();
    drop(connection);
    sqlx::query("truncate telemetry_sample")
        .execute(&pool)
        .await
        .expect("truncate");
    sqlx::query("delete from deployment")
        .execute(&pool)
        .await
        .expect("reset");

    // --- Pareto: HTTP, batches of 1,000, 4 concurrent senders ------------------------------
    let batches: Vec<Vec<u8>> = data
        .chunks(BATCH)
        .map(|chunk| {
            let samples: Vec<_> = chunk
                .iter()
                .map(|r| {
                    json!({
                        "ts": r.ts.to_rfc3339(), "deployment": format!("bench-{}", r.deployment),
                        "gpu_uuid": format!("GPU-{}-{}", r.deployment, r.gpu), "gpu_index": r.gpu,
                        "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 10,
                        "utilization_pct": r.utilization, "memory_used_mib": 40000, "power_watts": 500,
                        "requests": r.requests, "latency_ms": { "p50": 10, "p95": 30, "p99": 60 }
                    })
                })
                .collect();
            serde_json::to_vec(&json!({ "batch_id": uuid::Uuid::new_v4(), "host": "bench-host", "samples": samples }))
                .expect("json")
        })
        .collect();
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let url = server.url("/api/v1/telemetry");
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|_| {
            let (batches, next, client, url, token) = (
                batches.clone(),
                next.clone(),
                client.clone(),
                url.clone(),
                token.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = batches.get(index) else {
                        break;
                    };
                    loop {
                        let response = client
                            .post(&url)
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .body(body.clone())
                            .send()
                            .await
                            .expect("server answers");
                        match response.status().as_u16() {
                            202 => break,
                            429 => tokio::time::sleep(Duration::from_millis(50)).await,
                            other => panic!(
                                "ingest answered {other}: {}",
                                response.text().await.unwrap_or_default()
                            ),
                        }
                    }
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.expect("sender");
    }
    let ingest_time = started.elapsed();
    let stored = db.scalar("select count(*) from telemetry_sample").await;
    assert_eq!(stored as usize, ingest_samples, "every sample stored");

    let copy_rate = ingest_samples as f64 / copy_time.as_secs_f64();
    let binary_copy_rate = ingest_samples as f64 / binary_copy_time.as_secs_f64();
    let ingest_rate = ingest_samples as f64 / ingest_time.as_secs_f64();
    println!();
    println!(
        "ingest of {ingest_samples} samples ({} batches of {BATCH}, {SENDERS} senders)",
        batches.len()
    );
    println!(
        "  raw COPY into telemetry_sample   {:>10.0} samples/s  ({:.2} s)",
        copy_rate,
        copy_time.as_secs_f64()
    );
    println!(
        "  POST /api/v1/telemetry           {:>10.0} samples/s  ({:.2} s; validation, dedupe, rollups, devices)",
        ingest_rate,
        ingest_time.as_secs_f64()
    );
    println!(
        "  raw COPY, binary format          {:>10.0} samples/s  ({:.2} s; the format ingest sends)",
        binary_copy_rate,
        binary_copy_time.as_secs_f64()
    );
    println!(
        "  ratio                            {:>10.0}% of COPY (CSV), {:.0}% of COPY (binary)",
        100.0 * ingest_rate / copy_rate,
        100.0 * ingest_rate / binary_copy_rate
    );

    // --- the deployment page's query over 10,000,000 samples -------------------------------
    let extra = chart_samples.saturating_sub(ingest_samples);
    if extra > 0 {
        let started = Instant::now();
        let per_gpu = extra / (DEPLOYMENTS * 2);
        let first = end
            - TimeDelta::seconds(
                10 * (per_gpu as i64 + (ingest_samples / (DEPLOYMENTS * 2)) as i64),
            );
        let days = (0..=((end - first).num_days() + 1))
            .map(|d| (first + TimeDelta::days(d)).date_naive())
            .collect();
        app::telemetry::store::ensure_partitions(&pool, &days)
            .await
            .expect("partitions");
        // Older samples, generated in Postgres, with their rollups, as ingest would have left them.
        sqlx::query(
            "insert into telemetry_sample (ts, deployment_id, batch_id, host, gpu_uuid, gpu_index, gpu_model,
                 interval_s, utilization_pct, memory_used_mib, power_watts, requests,
                 latency_p50_ms, latency_p95_ms, latency_p99_ms)
             select $1::timestamptz + make_interval(secs => 10 * s), d.deployment_id, gen_random_uuid(), 'bench-host',
                    'GPU-old-' || g, g, 'NVIDIA H100 80GB HBM3', 10, (s % 97), 40000, 500, (s % 1000), 10, 30, 60
               from generate_series(0, $2 - 1) as s, generate_series(0, 1) as g, deployment d",
        )
        .bind(first)
        .bind(per_gpu as i64)
        .execute(&pool)
        .await
        .expect("generate samples");
        sqlx::query(
            "insert into telemetry_hourly as h (deployment_id, gpu_model, hour, sample_count, gpu_seconds,
                 busy_gpu_seconds, idle_gpu_seconds, energy_joules, memory_mib_seconds, requests,
                 latency_p95_weighted, latency_requests, latency_p95_max_ms)
             select deployment_id, gpu_model, date_trunc('hour', ts), count(*), sum(interval_s),
                    sum(interval_s * utilization_pct / 100), coalesce(sum(interval_s) filter (where utilization_pct < 10), 0),
                    sum(power_watts * interval_s), sum(memory_used_mib * interval_s), sum(requests),
                    sum(latency_p95_ms * requests), sum(requests), max(latency_p95_ms)
               from telemetry_sample where host = 'bench-host' and gpu_uuid like 'GPU-old-%'
              group by 1, 2, 3
             on conflict (deployment_id, hour, gpu_model) do update set
                sample_count = h.sample_count + excluded.sample_count,
                gpu_seconds = h.gpu_seconds + excluded.gpu_seconds,
                requests = h.requests + excluded.requests",
        )
        .execute(&pool)
        .await
        .expect("generate rollups");
        let total = db.scalar("select count(*) from telemetry_sample").await;
        println!();
        println!(
            "generated {} more samples in {:.0} s; {total} in all",
            total - stored,
            started.elapsed().as_secs_f64()
        );
        sqlx::query("analyze")
            .execute(&pool)
            .await
            .expect("analyze");
    }
    for (label, days) in [
        ("deployment page query, 30 days", 30u32),
        ("deployment page query, 90 days", 90),
    ] {
        let mut times = Vec::new();
        for i in 0..60 {
            let key = format!("bench-{}", i % DEPLOYMENTS);
            let started = Instant::now();
            let detail = app::fleet::store::detail(&pool, &key, days)
                .await
                .expect("query")
                .expect("deployment");
            times.push(started.elapsed());
            assert!(!detail.points.is_empty());
        }
        times.sort();
        println!(
            "  {label:<34} p50 {:>6.1} ms   p95 {:>6.1} ms",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.95).as_secs_f64() * 1000.0
        );
    }
    dashboards(&db, &pool, &server, end).await;
    drop(server);
    pool.close().await;
    db.drop().await;
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    println!(
        "  {label:<34} p50 {:>6.1} ms   p95 {:>6.1} ms",
        percentile(times, 0.5).as_secs_f64() * 1000.0,
        percentile(times, 0.95).as_secs_f64() * 1000.0
    );
}

/// The overview and drift pages (figures alone, then the page through HTTP) and the TCO export,
/// over the telemetry above and 90 days of hourly drift for 4 features of every deployment.
async fn dashboards(db: &TestDb, pool: &sqlx::PgPool, server: &Server, end: DateTime<Utc>) {
    let started = Instant::now();
    let batch_id = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into drift_batch (batch_id, content_hash, measurement_count) values ($1, '\\x00', 0)",
    )
    .bind(batch_id)
    .execute(pool)
    .await
    .expect("drift batch");
    sqlx::query(
        "insert into drift_measurement (deployment_id, batch_id, ts, kind, metric, feature, value)
         select d.deployment_id, $1, $2::timestamptz - make_interval(hours => h), 'data', 'psi',
                'feature_' || f, ((h * 7 + f) % 40) / 100.0
           from deployment d, generate_series(0, 2159) as h, generate_series(0, 3) as f",
    )
    .bind(batch_id)
    .bind(end)
    .execute(pool)
    .await
    .expect("drift measurements");
    sqlx::query(
        "insert into drift_series select distinct deployment_id, kind, metric, feature from drift_measurement",
    )
    .execute(pool)
    .await
    .expect("drift series");
    // Every deployment serves a model of one of five teams, so the overview and TCO have owners.
    let deployments: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("select deployment_id, key from deployment order by key")
            .fetch_all(pool)
            .await
            .expect("deployments");
    let mut teams = Vec::new();
    for n in 0..5 {
        let team: uuid::Uuid =
            sqlx::query_scalar("insert into team (name) values ($1) returning team_id")
                .bind(format!("Bench team {n}"))
                .fetch_one(pool)
                .await
                .expect("team");
        teams.push(team);
    }
    for (i, (deployment_id, key)) in deployments.iter().enumerate() {
        sqlx::query(
            "with m as (insert into model (name, owner_team_id) values ($1, $2) returning model_id),
                  v as (insert into model_version (model_id, version) select model_id, 'v1' from m
                        returning model_version_id)
             update deployment set model_version_id = (select model_version_id from v)
              where deployment_id = $3",
        )
        .bind(format!("model-{key}"))
        .bind(teams[i % teams.len()])
        .bind(deployment_id)
        .execute(pool)
        .await
        .expect("model");
    }
    sqlx::query("analyze").execute(pool).await.expect("analyze");
    let measurements = db.scalar("select count(*) from drift_measurement").await;
    println!();
    println!(
        "generated {measurements} drift measurements in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let actor = app::audit::Actor::System;
    let user = app::users::NewUser::parse(
        "bench@example.com",
        "Bench",
        "correct horse battery",
        None,
        "viewer",
    )
    .expect("user");
    let user_id = app::users::store::create(pool, &actor, user)
        .await
        .expect("user")
        .user_id;
    let session = app::auth::session::create(
        pool,
        &app::state::AuthSettings::default(),
        user_id,
        "bench",
        "127.0.0.1",
    )
    .await
    .expect("session");
    let http = pareto_tests::client();
    let now = Utc::now();
    let (mut overview, mut overview_page, mut drift, mut drift_page) =
        (vec![], vec![], vec![], vec![]);
    for round in 0..45 {
        let t = Instant::now();
        let dashboard = app::overview::store::dashboard(pool, now)
            .await
            .expect("overview");
        let overview_time = t.elapsed();
        assert!(
            !dashboard.idle.is_empty()
                || !dashboard.movers.is_empty()
                || dashboard.recent.is_empty()
        );
        let t = Instant::now();
        let rows = app::drift::store::rows(pool, now - TimeDelta::days(30), now, None)
            .await
            .expect("drift");
        let drift_time = t.elapsed();
        assert_eq!(rows.len(), DEPLOYMENTS);
        let mut page_times = Vec::new();
        for (path, marker) in [
            ("/", "Spend against budget"),
            ("/drift", "Cost against drift"),
        ] {
            let t = Instant::now();
            let body = http
                .get(server.url(path))
                .header("cookie", format!("pareto_session={session}"))
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("body");
            page_times.push(t.elapsed());
            assert!(body.contains(marker), "the whole page {path} came back");
        }
        // The first rounds warm the caches and the connection pool.
        if round >= 5 {
            overview.push(overview_time);
            drift.push(drift_time);
            overview_page.push(page_times[0]);
            drift_page.push(page_times[1]);
        }
    }
    println!("overview and drift over the data above (target: page p95 under 100 ms)");
    report("overview figures", &mut overview);
    report("overview page (HTTP)", &mut overview_page);
    report("drift-versus-cost figures, 30 days", &mut drift);
    report("drift-versus-cost page (HTTP)", &mut drift_page);

    let quarter = app::reports::Quarter::containing(now);
    let (mut figures, mut xlsx) = (vec![], vec![]);
    let output = std::env::temp_dir().join(format!("pareto-bench-{}.xlsx", std::process::id()));
    for _ in 0..5 {
        let t = Instant::now();
        let tco = app::reports::store::tco(pool, quarter, now)
            .await
            .expect("tco");
        figures.push(t.elapsed());
        assert!(tco.total() > rust_decimal::Decimal::ZERO);
        let t = Instant::now();
        let written = pareto(
            db,
            &[
                "report",
                "tco",
                "--quarter",
                &quarter.to_string(),
                "--format",
                "xlsx",
                "--output",
                output.to_str().expect("path"),
            ],
            "",
        );
        xlsx.push(t.elapsed());
        assert!(written.status.success(), "{}", text(&written.stderr));
    }
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_file(&output);
    println!("quarterly TCO of {quarter} (target: XLSX under 2 s; {size} bytes)");
    report("TCO figures", &mut figures);
    report("XLSX by `pareto report tco`", &mut xlsx);
}
