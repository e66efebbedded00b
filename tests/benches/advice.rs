//! `make bench`: the advice for 50 deployments (BENCH_ADVICE_DEPLOYMENTS) over 90 days of hourly
//! telemetry and daily quality measurements, measured three ways in one run: the raw read of the
//! 30 days of priced hours it starts from (the baseline), the whole advice (simulations, spot,
//! retraining plans), and `GET /api/v1/advice` through the real server.

use pareto_tests::{client, pareto, text, Server, TestDb};
use sqlx::postgres::PgPoolOptions;
use std::time::{Duration, Instant};

use app::advice::simulate::Settings;
use app::audit::Actor;

/// One priced hour as the advice reads it: deployment, hour, GPU-seconds, busy, requests, cost.
type RawHour = (
    uuid::Uuid,
    chrono::DateTime<chrono::Utc>,
    f64,
    f64,
    i64,
    Option<rust_decimal::Decimal>,
);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let deployments: i32 = std::env::var("BENCH_ADVICE_DEPLOYMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&db.url())
        .await
        .expect("database");
    let now = app::clock::now();
    let started = Instant::now();
    // Every deployment holds 1 to 4 GPUs of a catalog model around the clock, busier by day, with
    // a p95 and requests every hour; on demand, reserved or spot by turn.
    sqlx::query(
        "insert into deployment (key, pricing_kind)
         select 'bench-' || n, (array['on_demand', 'reserved', 'spot'])[1 + n % 3]::pricing_kind
           from generate_series(1, $1) n",
    )
    .bind(deployments)
    .execute(&pool)
    .await
    .expect("deployments");
    sqlx::query(
        "insert into telemetry_hourly (deployment_id, gpu_model, hour, sample_count, gpu_seconds,
                busy_gpu_seconds, idle_gpu_seconds, energy_joules, memory_mib_seconds, requests,
                latency_p95_weighted, latency_requests)
         select d.deployment_id,
                (array['NVIDIA H100 80GB HBM3', 'NVIDIA A100-SXM4-80GB', 'NVIDIA L4'])[1 + n % 3],
                h, 60, g * 3600, busy * 3600, (g - busy) * 3600, g * 3600 * 300, g * 3600 * 20000,
                (busy * 50000)::bigint, 40 * busy * 50000, (busy * 50000)::bigint
           from deployment d
           cross join lateral (select substr(d.key, 7)::int as n) k
           cross join generate_series(date_trunc('hour', $1::timestamptz) - interval '90 days',
                                      date_trunc('hour', $1::timestamptz) - interval '1 hour',
                                      interval '1 hour') h
           cross join lateral (select 1 + n % 4 as g) gpus
           cross join lateral (select g * (0.15 + 0.5 * (extract(hour from h) between 8 and 18)::int
                                            * (n % 5) / 5.0) as busy) b",
    )
    .bind(now)
    .execute(&pool)
    .await
    .expect("telemetry");
    sqlx::query(
        "with b as (insert into drift_batch (batch_id, content_hash, measurement_count)
                    values (gen_random_uuid(), '\\x00', 0) returning batch_id)
         insert into drift_measurement (deployment_id, batch_id, ts, kind, metric, value)
         select d.deployment_id, b.batch_id, $1::timestamptz - make_interval(days => day),
                'performance', 'f1', 0.80 + 0.0005 * day
           from deployment d, b, generate_series(1, 90) day",
    )
    .bind(now)
    .execute(&pool)
    .await
    .expect("quality");
    let hours: i64 = sqlx::query_scalar("select count(*) from telemetry_hourly")
        .fetch_one(&pool)
        .await
        .expect("count");
    println!(
        "pareto bench: {deployments} deployments, {hours} hourly rows over 90 days, stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let (_, token) = {
        let created = app::tokens::store::create(
            &pool,
            &Actor::System,
            "bench",
            &[app::tokens::Scope::Read],
            None,
        )
        .await
        .expect("token");
        (created.token.api_token_id, created.secret)
    };
    let server = Server::start(&db).await;
    let http = client();
    let url = server.url("/api/v1/advice");

    let (mut raw, mut advice, mut api, mut plans) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut pieces = 0;
    for round in 0..55 {
        let started = Instant::now();
        let rows: Vec<RawHour> = sqlx::query_as(
            "select deployment_id, hour, gpu_seconds, busy_gpu_seconds, requests, reserved_cost
                   from priced_hourly where hour >= date_trunc('hour', $1::timestamptz)",
        )
        .bind(now - chrono::TimeDelta::days(app::advice::WINDOW_DAYS))
        .fetch_all(&pool)
        .await
        .expect("raw read");
        let raw_time = started.elapsed();
        assert!(!rows.is_empty());

        let started = Instant::now();
        let list = app::advice::store::load(&pool, Settings::default())
            .await
            .expect("advice");
        let advice_time = started.elapsed();
        assert_eq!(list.deployments, deployments as usize);
        assert_eq!(list.retraining.len(), deployments as usize);
        pieces = list.advice.len();

        let started = Instant::now();
        app::advice::retrain_store::plans(&pool, app::clock::now())
            .await
            .expect("plans");
        let plans_time = started.elapsed();

        let started = Instant::now();
        let response = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("api");
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.text().await.expect("body");
        let api_time = started.elapsed();
        assert!(body.contains("\"advice\""));
        if round >= 5 {
            raw.push(raw_time);
            advice.push(advice_time);
            api.push(api_time);
            plans.push(plans_time);
        }
    }
    for times in [&mut raw, &mut advice, &mut api, &mut plans] {
        times.sort();
    }
    println!();
    println!(
        "advice for {deployments} deployments over 90 days ({pieces} pieces; 50 rounds after 5 warm-up rounds)"
    );
    for (label, times) in [
        ("baseline: read 30 days of priced hours", &raw),
        ("advice: simulate, spot, retraining", &advice),
        ("  of which the retraining plans", &plans),
        ("GET /api/v1/advice through HTTP", &api),
    ] {
        println!(
            "  {label:<40} p50 {:>6.1} ms   p95 {:>6.1} ms",
            percentile(times, 0.5).as_secs_f64() * 1000.0,
            percentile(times, 0.95).as_secs_f64() * 1000.0
        );
    }
    drop(server);
    pool.close().await;
    db.drop().await;
}
