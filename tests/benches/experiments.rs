//! `make bench`: an experiment's page with 10,000 runs (BENCH_EXPERIMENT_RUNS), measured two ways
//! in one run: the figures alone (load, price, check, recommend, frontier) and the whole page
//! rendered by the real server through HTTP for a signed-in browser; the first view, which reads
//! and parses every run, apart from the views that follow, which find them kept.

use pareto_tests::{client, pareto, text, Server, TestDb};
use sqlx::postgres::PgPoolOptions;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::audit::Actor;
use app::experiments::fields::run_from_fields;
use app::experiments::{store, view, ExperimentForm, RunSpec};

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A varied candidate: every fifth is API-priced, the rest self-hosted at a typed price.
fn run(i: usize) -> RunSpec {
    let f1 = format!("{:.3}", 0.80 + ((i * 37) % 200) as f64 / 1000.0);
    let p95 = format!("{}", 5 + (i * 13) % 300);
    let rps = format!("{}", 50 + (i * 7) % 2000);
    let price = format!("{:.2}", 0.5 + (i % 40) as f64 / 10.0);
    let per_request = format!("{:.5}", 0.0001 + (i % 17) as f64 / 10_000.0);
    let name = format!("candidate {i}");
    let mut fields: Vec<(&str, String)> = vec![
        ("name", name),
        ("f1", f1),
        ("metrics", format!("auc=0.9{}", i % 10)),
        ("latency_p95_ms", p95),
    ];
    if i.is_multiple_of(5) {
        fields.push(("price_per_request", per_request));
    } else {
        fields.extend([
            ("throughput_rps", rps),
            ("gpu_model", "NVIDIA L4".to_owned()),
            ("hourly_price", price),
            ("training_gpu_hours", format!("{}", i % 50)),
        ]);
    }
    let values: BTreeMap<String, String> =
        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    run_from_fields(&values).expect("a valid run")
}

#[tokio::main]
async fn main() {
    let count = env_size("BENCH_EXPERIMENT_RUNS", 10_000);
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&db.url())
        .await
        .expect("database");
    let actor = Actor::System;
    let team_id = app::teams::store::create(&pool, &actor, "Bench", "")
        .await
        .expect("team");
    let form = ExperimentForm {
        name: "Bench".into(),
        team_id: team_id.to_string(),
        task_type: "classification".into(),
        primary_metric: "f1".into(),
        constraints: "f1 >= 0.9\np95 <= 150 ms\nmonthly <= 20000".into(),
        ..ExperimentForm::default()
    };
    let experiment_id = store::create(&pool, &actor, form.parse().expect("form"), false)
        .await
        .expect("experiment");
    let started = Instant::now();
    let runs: Vec<RunSpec> = (0..count).map(run).collect();
    for chunk in runs.chunks(1_000) {
        store::add_runs(&pool, &actor, experiment_id, chunk.to_vec())
            .await
            .expect("runs stored");
    }
    println!(
        "pareto bench: stored {count} runs in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let user = app::users::NewUser::parse(
        "bench@example.com",
        "Bench",
        "correct horse battery",
        None,
        "viewer",
    )
    .expect("user");
    let user_id = app::users::store::create(&pool, &actor, user)
        .await
        .expect("user")
        .user_id;
    let session = app::auth::session::create(
        &pool,
        &app::state::AuthSettings::default(),
        user_id,
        "bench",
        "127.0.0.1",
    )
    .await
    .expect("session");
    let server = Server::start(&db).await;
    let http = client();
    let page = server.url(&format!("/experiments/{experiment_id}"));

    let mut figures = Vec::new();
    let mut pages = Vec::new();
    let mut page_bytes = 0;
    for round in 0..55 {
        let started = Instant::now();
        let view = store::view(&pool, experiment_id, view::RUNS_SHOWN)
            .await
            .expect("view")
            .expect("experiment");
        let figures_time = started.elapsed();
        assert_eq!(view.total_runs, count);

        let started = Instant::now();
        let response = http
            .get(&page)
            .header("cookie", format!("pareto_session={session}"))
            .send()
            .await
            .expect("page");
        assert!(response.status().is_success(), "{}", response.status());
        let body = response.text().await.expect("body");
        let page_time = started.elapsed();
        assert!(body.contains("Decision matrix"), "the whole page came back");
        page_bytes = body.len();
        // The first round reads and parses every run (the bench and the server each keep them
        // parsed afterwards, until the runs change); the next rounds warm the connection pool.
        if round == 0 {
            println!(
                "first view (every run read and parsed): figures {:.1} ms, page {:.1} ms",
                figures_time.as_secs_f64() * 1000.0,
                page_time.as_secs_f64() * 1000.0
            );
        }
        if round >= 5 {
            figures.push(figures_time);
            pages.push(page_time);
        }
    }
    figures.sort();
    pages.sort();
    println!();
    println!("experiment page with {count} runs (50 rounds after 5 warm-up rounds)");
    for (label, times) in [
        ("figures: load, price, check, rank", &figures),
        ("page through HTTP, signed in", &pages),
    ] {
        println!(
            "  {label:<36} p50 {:>6.1} ms   p95 {:>6.1} ms",
            percentile(times, 0.5).as_secs_f64() * 1000.0,
            percentile(times, 0.95).as_secs_f64() * 1000.0
        );
    }
    println!("  page size {:.0} kB", page_bytes as f64 / 1024.0);
    drop(server);
    pool.close().await;
    db.drop().await;
}
