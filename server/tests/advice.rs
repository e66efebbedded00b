//! Advice from measured telemetry: the API and the page, and who may read them.

use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::*;
use app::audit::Actor;
use app::auth::Role;
use app::tokens::Scope;

async fn token(pool: &PgPool, name: &str, scopes: &[Scope]) -> String {
    app::tokens::store::create(pool, &Actor::System, name, scopes, None)
        .await
        .expect("token")
        .secret
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn two_gpus_a_fifth_busy_are_advised_down_to_one_with_its_saving(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // A day of two H100s held every hour at 20% (0.4 busy GPU-hours: one GPU at 80% suffices),
    // each hour one sample per GPU.
    let samples: Vec<Value> = (1..=24)
        .flat_map(|hours_ago| {
            ["GPU-a", "GPU-b"].map(|gpu| {
                json!({
                    "ts": (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339(),
                    "deployment": "ranker-v5", "gpu_uuid": gpu, "gpu_index": 0,
                    "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 3600,
                    "utilization_pct": 20.0, "memory_used_mib": 1000, "power_watts": 200,
                    "requests": 1000
                })
            })
        })
        .collect();
    let ingest = token(&pool, "agent", &[Scope::Ingest]).await;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-1", "samples": samples });
    let stored = api_post(&router, "/api/v1/telemetry", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);

    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let reply = bearer(&router, "/api/v1/advice", &reader).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list = reply.json();
    let advice = &list["advice"][0];
    assert_eq!(advice["deployment"], "ranker-v5");
    assert_eq!(advice["kind"], "right_size");
    assert_eq!(
        advice["action"],
        "Hold 1 H100 80GB HBM3 GPU instead of up to 2"
    );
    // 48 GPU-hours at 4.00 USD over 24 measured hours: 5,760 USD a 720-hour month; half saved.
    assert_eq!(advice["cost_per_month"], "5760.00");
    assert_eq!(advice["saving_per_month"], "2880.00");
    let saving: f64 = advice["saving_per_month"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("amount");
    let cost: f64 = advice["cost_per_month"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("amount");
    assert!(saving <= cost, "never more than it costs");
    // Real-time on demand: half of it on spot at 2.10 (with 10% for work run again) instead of
    // 4.00 costs 96 + 24 x 2.31 = 151.44 of 192 USD over the day: 21.125% less.
    let spot = list["advice"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["kind"] == "spot"))
        .unwrap_or_else(|| panic!("spot advice: {list}"));
    assert_eq!(
        spot["action"],
        "Serve 50% of it from spot H100 80GB HBM3 GPUs, with on-demand ones as the fallback"
    );
    assert_eq!(spot["saving_per_month"], "1216.80");

    let viewer = signed_in(&pool, Role::Viewer).await;
    let page = get(&router, "/advice", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "Hold 1 H100 80GB HBM3 GPU instead of up to 2",
        "2,880.00 USD",
        "Risk: ",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }

    // The deployment's own page shows its advice too.
    let own = get(&router, "/deployments/ranker-v5?days=7", Some(&viewer)).await;
    assert!(
        own.body
            .contains("Hold 1 H100 80GB HBM3 GPU instead of up to 2"),
        "{}",
        own.body
    );

    // An ingest token reads nothing; without a token, nothing either.
    assert_eq!(
        bearer(&router, "/api/v1/advice", &ingest).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&router, "/api/v1/advice", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}
