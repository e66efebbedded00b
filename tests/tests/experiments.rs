//! Experiments through the real `pareto` binary: the demo's recommendation, and a pipeline that
//! posts an experiment and its runs with a token made on the command line.

use pareto_tests::{client, pareto, text, Server, TestDb};
use serde_json::{json, Value};

fn token(db: &TestDb, name: &str, scope: &str) -> String {
    let created = pareto(
        db,
        &["token", "create", "--name", name, "--scope", scope],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    text(&created.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_pipeline_posts_runs_and_reads_back_the_cheapest_that_meets_the_sla() {
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    assert!(
        text(&demo.stdout).contains("5 experiments with 19 candidate runs"),
        "{}",
        text(&demo.stdout)
    );
    let writer = token(&db, "training-pipeline", "write");
    let reader = token(&db, "report", "read");
    let server = Server::start(&db).await;
    let http = client();

    // The demo's sentiment experiment recommends DistilBERT, cheaper than BERT-base.
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let demo_id: uuid::Uuid =
        sqlx::query_scalar("select experiment_id from experiment where name = 'Review sentiment'")
            .fetch_one(&pool)
            .await
            .expect("demo experiment");
    pool.close().await;
    let demo_view: Value = http
        .get(server.url(&format!("/api/v1/experiments/{demo_id}")))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("demo")
        .json()
        .await
        .expect("json");
    assert_eq!(
        demo_view["recommendation"],
        "DistilBERT meets F1 ≥ 0.9 and p95 latency ≤ 150 ms at 584.00 USD/month, 1,241.00 USD/month less than BERT-base."
    );

    // The summaries experiment prices its hosted candidates from the API price table, one of them
    // with the negotiated discount the demo sets, and says which row priced them.
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let summaries: uuid::Uuid = sqlx::query_scalar(
        "select experiment_id from experiment where name = 'Support-ticket summaries'",
    )
    .fetch_one(&pool)
    .await
    .expect("demo experiment");
    pool.close().await;
    let view: Value = http
        .get(server.url(&format!("/api/v1/experiments/{summaries}")))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("summaries")
        .json()
        .await
        .expect("json");
    let basis = |name: &str| {
        view["runs"]
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["name"] == name))
            .and_then(|r| r["basis"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        basis("Claude Haiku 4.5 (API)")
            .contains("API price table: anthropic claude-haiku-4-5, the row in force since 2026-01-01 (an example row), negotiated −8%"),
        "{view}"
    );
    assert!(
        basis("GPT-4o mini (API)")
            .contains("at 0.1125 USD and 250 output tokens at 0.60 USD per 1M tokens"),
        "{view}"
    );

    let created = http
        .post(server.url("/api/v1/experiments"))
        .bearer_auth(&writer)
        .json(&json!({
            "name": "Churn model", "team": "Fraud Detection", "task_type": "classification",
            "primary_metric": "auc", "constraints": ["auc >= 0.85", "p95 <= 50 ms"],
            "monthly_volume": 2_000_000, "mode": "batch"
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.expect("json")["experiment_id"]
        .as_str()
        .expect("id")
        .to_owned();

    let runs = json!({ "runs": [
        { "run_key": "gbt-7", "name": "Gradient-boosted trees", "metrics": {"auc": 0.88},
          "latency_ms": {"p95": 4}, "throughput_rps": 3000,
          "hardware": {"cpu_instance": "c6i.2xlarge", "hourly_price": "0.34"},
          "inference": {"kind": "self_hosted"} },
        { "run_key": "mlp-3", "name": "Neural network", "metrics": {"auc": 0.90},
          "latency_ms": {"p95": 12}, "throughput_rps": 800,
          "hardware": {"gpu_model": "NVIDIA L4"}, "inference": {"kind": "self_hosted"} }
    ]});
    let path = server.url(&format!("/api/v1/experiments/{id}/runs"));
    let stored = http
        .post(&path)
        .bearer_auth(&writer)
        .json(&runs)
        .send()
        .await
        .expect("runs");
    assert_eq!(stored.status(), 201);
    let again = http
        .post(&path)
        .bearer_auth(&writer)
        .json(&runs)
        .send()
        .await
        .expect("retry");
    assert_eq!(again.status(), 200, "a retry adds nothing");

    let read = http
        .get(server.url(&format!("/api/v1/experiments/{id}")))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("read");
    assert_eq!(read.status(), 200);
    let view: Value = read.json().await.expect("json");
    // Batch: 0.34 USD/h / (3,000 x 3,600 requests/h) x 2,000,000 = 0.063 USD a month, against the
    // L4 at 0.80 USD/h for 800 requests/s: 0.556 USD; 0.493 USD apart.
    assert_eq!(
        view["recommendation"],
        "Gradient-boosted trees meets AUC ≥ 0.85 and p95 latency ≤ 50 ms at 0.06 USD/month, 0.49 USD/month less than Neural network."
    );
    assert_eq!(view["total_runs"], 2);
    drop(server);
    db.drop().await;
}
