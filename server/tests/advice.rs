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

/// A day of two H100s held every hour at 20% (0.4 busy GPU-hours: one GPU at 80% suffices),
/// each hour one sample per GPU, for `ranker-v5`; the ingest token that posted it.
async fn two_gpus_a_fifth_busy(pool: &PgPool, router: &axum::Router) -> String {
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
    let ingest = token(pool, "agent", &[Scope::Ingest]).await;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-1", "samples": samples });
    let stored = api_post(router, "/api/v1/telemetry", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);

    ingest
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn two_gpus_a_fifth_busy_are_advised_down_to_one_with_its_saving(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let ingest = two_gpus_a_fifth_busy(&pool, &router).await;

    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let reply = bearer(&router, "/api/v1/advice", &reader).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list = reply.json();
    let of_kind = |kind: &str| {
        list["advice"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["kind"] == kind).cloned())
            .unwrap_or_else(|| panic!("{kind} advice: {list}"))
    };
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
    // Mostly waiting with 1 GiB used: the A100 80GB (2.50 USD) would be about 32% busy; the L4
    // (0.80 USD) would be 100% busy, too busy. 37.5% of 5,760 USD.
    let card = of_kind("bottleneck");
    assert_eq!(
        card["action"],
        "Move it from H100 80GB HBM3 to A100-SXM4-80GB GPUs: its GPUs mostly wait"
    );
    assert_eq!(card["saving_per_month"], "2160.00");

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

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_decaying_model_is_told_when_retraining_pays_for_itself(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // F1 measured daily for 20 days, from 0.90 falling 0.001 a day: 3 points a month.
    let ingest = token(&pool, "monitor", &[Scope::Ingest]).await;
    let measurements: Vec<Value> = (0..20)
        .map(|day| {
            json!({
                "ts": (app::clock::now() - chrono::TimeDelta::days(19 - day)).to_rfc3339(),
                "deployment": "fraud-v3", "kind": "performance", "metric": "f1",
                "value": 0.90 - 0.001 * day as f64, "samples": 1000
            })
        })
        .collect();
    let body = json!({ "batch_id": uuid::Uuid::new_v4(), "measurements": measurements });
    let stored = api_post(&router, "/api/v1/drift", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);
    let deployment_id: uuid::Uuid =
        sqlx::query_scalar("select deployment_id from deployment where key = 'fraud-v3'")
            .fetch_one(&pool)
            .await
            .expect("deployment");
    home_deployment(&pool, deployment_id).await;
    let model_id: String = sqlx::query_scalar(
        "select v.model_id::text from deployment d join model_version v using (model_version_id)
          where d.deployment_id = $1",
    )
    .bind(deployment_id)
    .fetch_one(&pool)
    .await
    .expect("model");

    // Without a training cost or a value of a point, the plan says what it lacks.
    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let list = bearer(&router, "/api/v1/advice", &reader).await.json();
    let plan = &list["retraining"][0];
    assert_eq!(plan["deployment"], "fraud-v3");
    assert_eq!(
        plan["finding"],
        "F1 loses 3.00 points a month; its training cost and the value of a point are not known to weigh that against."
    );

    // Only a lead sets what a point is worth; a bad amount is refused by field.
    let form = [
        ("model_id", model_id.as_str()),
        ("amount", "1000"),
        ("currency", "usd"),
    ];
    for role in [Role::Viewer, Role::Member] {
        let caller = signed_in(&pool, role).await;
        let refused = call::<app::advice::SetPointValue>(&router, Some(&caller), &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    let lead = signed_in(&pool, Role::Lead).await;
    let bad = call::<app::advice::SetPointValue>(
        &router,
        Some(&lead),
        &[
            ("model_id", &model_id),
            ("amount", "-5"),
            ("currency", "USD"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("amount"), "{}", bad.body);
    let set = call::<app::advice::SetPointValue>(&router, Some(&lead), &form).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    // A training cost from the run that evaluated the version: 600 USD.
    let version_id: String =
        sqlx::query_scalar("select model_version_id::text from deployment where key = 'fraud-v3'")
            .fetch_one(&pool)
            .await
            .expect("version");
    {
        use app::experiments::fields::run_from_fields;
        use app::experiments::{store, ExperimentForm};
        let form = ExperimentForm {
            name: "Fraud".into(),
            team_id: HOME_TEAM.into(),
            task_type: "classification".into(),
            primary_metric: "f1".into(),
            ..ExperimentForm::default()
        };
        let experiment = store::create(&pool, &Actor::System, form.parse().expect("form"), false)
            .await
            .expect("experiment");
        let fields: std::collections::BTreeMap<String, String> = [
            ("name", "v3"),
            ("f1", "0.9"),
            ("price_per_request", "0.0002"),
            ("training_cost", "600"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut run = run_from_fields(&fields).expect("a valid run");
        run.model_version_id = Some(version_id.parse().expect("uuid"));
        store::add_runs(&pool, &Actor::System, experiment, vec![run])
            .await
            .expect("run");
    }
    let list = bearer(&router, "/api/v1/advice", &reader).await.json();
    let plan = &list["retraining"][0];
    // T* = √(2 · 600 / (1000 · 3)) months = 19 days after measuring began, 19 days ago: due.
    assert_eq!(plan["due"], true, "{plan}");
    let finding = plan["finding"].as_str().unwrap_or_default();
    assert!(finding.starts_with("Retrain now"), "{finding}");
    let figures = plan["figures"].to_string();
    assert!(figures.contains("Training costs 600.00 USD; a point is worth 1,000.00 USD a month (set by lead@example.com)"), "{figures}");
    assert!(figures.contains("Retraining every 19 days"), "{figures}");

    // The alert loop raises it once.
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
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_lead_sets_what_the_advice_assumes_and_marks_a_deployment_interruptible(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    two_gpus_a_fifth_busy(&pool, &router).await;
    // Linked to a model of the team the leads belong to: a lead marks only what their teams run.
    let ranker: uuid::Uuid =
        sqlx::query_scalar("select deployment_id from deployment where key = 'ranker-v5'")
            .fetch_one(&pool)
            .await
            .expect("deployment");
    home_deployment(&pool, ranker).await;
    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let settings = [
        ("max_utilization_pct", "60"),
        ("startup_minutes", "5"),
        ("min_saving_pct", "5"),
        ("spot_rerun_pct", "20"),
        ("spot_share_real_time_pct", "50"),
    ];
    let tolerant = [("key", "ranker-v5"), ("tolerant", "true")];
    for role in [Role::Viewer, Role::Member] {
        let caller = signed_in(&pool, role).await;
        let refused =
            call::<app::advice::SaveAdviceSettings>(&router, Some(&caller), &settings).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let refused =
            call::<app::advice::SetInterruptionTolerant>(&router, Some(&caller), &tolerant).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    let lead = signed_in(&pool, Role::Lead).await;
    let mut bad = settings;
    bad[0] = ("max_utilization_pct", "5");
    let refused = call::<app::advice::SaveAdviceSettings>(&router, Some(&lead), &bad).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("max_utilization_pct") && refused.body.contains("from 10 to 100"),
        "{}",
        refused.body
    );

    let saved = call::<app::advice::SaveAdviceSettings>(&router, Some(&lead), &settings).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let list = bearer(&router, "/api/v1/advice", &reader).await.json();
    assert_eq!(list["settings"]["max_utilization"], 0.6);
    assert_eq!(list["settings"]["spot_rerun"], 0.2);

    // Marked as surviving interruptions, the real-time deployment is priced all on spot.
    let marked =
        call::<app::advice::SetInterruptionTolerant>(&router, Some(&lead), &tolerant).await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.body);
    let list = bearer(&router, "/api/v1/advice", &reader).await.json();
    let spot = list["advice"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["kind"] == "spot"))
        .unwrap_or_else(|| panic!("spot advice: {list}"));
    assert_eq!(spot["action"], "Run it on spot H100 80GB HBM3 GPUs");
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action in ('advice.settings', 'deployment.interruption_tolerant')",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 2);
    let page = get(&router, "/deployments/ranker-v5", Some(&lead)).await;
    assert!(
        page.body.contains("Tolerates interruptions"),
        "{}",
        page.body
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn idle_gpus_and_a_version_staged_for_months_are_advised_away(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // A day of work, then 80 hours of one L4 held without a request.
    let samples: Vec<Value> = (1..=104)
        .map(|hours_ago| {
            let working = hours_ago > 80;
            json!({
                "ts": (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339(),
                "deployment": "ocr-v1", "gpu_uuid": "GPU-ocr", "gpu_index": 0,
                "gpu_model": "NVIDIA L4", "interval_s": 3600,
                "utilization_pct": if working { 60.0 } else { 0.0 },
                "memory_used_mib": 1000, "power_watts": 40,
                "requests": if working { 5000 } else { 0 }
            })
        })
        .collect();
    let ingest = token(&pool, "agent", &[Scope::Ingest]).await;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-2", "samples": samples });
    let stored = api_post(&router, "/api/v1/telemetry", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);
    // Its version has been in staging for 90 days.
    let id: uuid::Uuid =
        sqlx::query_scalar("select deployment_id from deployment where key = 'ocr-v1'")
            .fetch_one(&pool)
            .await
            .expect("deployment");
    home_deployment(&pool, id).await;
    sqlx::query(
        "update model_version set status = 'staging', updated_at = $2
          where model_version_id = (select model_version_id from deployment where deployment_id = $1)",
    )
    .bind(id)
    .bind(app::clock::now() - chrono::TimeDelta::days(90))
    .execute(&pool)
    .await
    .expect("staging");

    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let list = bearer(&router, "/api/v1/advice", &reader).await.json();
    let of_kind = |kind: &str| {
        list["advice"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["kind"] == kind).cloned())
            .unwrap_or_else(|| panic!("{kind} advice: {list}"))
    };
    let idle = of_kind("idle");
    assert_eq!(
        idle["action"],
        "Release its 1 L4 GPU: idle for the last 3 days"
    );
    // 104 L4-hours at 0.80 USD over 104 hours: 576 USD a month, all of it held idle at the end.
    assert_eq!(idle["cost_per_month"], "576.00");
    assert_eq!(idle["saving_per_month"], "576.00");
    let stale = of_kind("stale");
    assert_eq!(
        stale["action"],
        "Promote or retire home-".to_owned() + &id.to_string() + " v1: in staging for 90 days"
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_p95_target_sizes_the_gpus_the_advice_keeps(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // A day of four H100s each 30% busy (1.2 busy GPU-hours an hour), their p95 50 ms: as a
    // queue, 35 ms at no load.
    let samples: Vec<Value> = (1..=24)
        .flat_map(|hours_ago| {
            ["GPU-a", "GPU-b", "GPU-c", "GPU-d"].map(|gpu| {
                json!({
                    "ts": (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339(),
                    "deployment": "ranker-v6", "gpu_uuid": gpu, "gpu_index": 0,
                    "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 3600,
                    "utilization_pct": 30.0, "memory_used_mib": 1000, "power_watts": 200,
                    "requests": 1000, "latency_ms": { "p50": 20.0, "p95": 50.0, "p99": 80.0 }
                })
            })
        })
        .collect();
    let ingest = token(&pool, "agent", &[Scope::Ingest]).await;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-2", "samples": samples });
    let stored = api_post(&router, "/api/v1/telemetry", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);
    let id: uuid::Uuid =
        sqlx::query_scalar("select deployment_id from deployment where key = 'ranker-v6'")
            .fetch_one(&pool)
            .await
            .expect("deployment");
    home_deployment(&pool, id).await;
    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let right_size = || async {
        let list = bearer(&router, "/api/v1/advice", &reader).await.json();
        list["advice"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["kind"] == "right_size").cloned())
    };

    // Without a target, each GPU may be 80% busy: two are enough.
    let advice = right_size().await.expect("right-sizing");
    assert_eq!(
        advice["action"],
        "Hold 2 H100 80GB HBM3 GPUs instead of up to 4"
    );

    let target = |ms: &'static str| [("key", "ranker-v6"), ("target_ms", ms)];
    for role in [Role::Viewer, Role::Member] {
        let caller = signed_in(&pool, role).await;
        let refused =
            call::<app::advice::SetP95Target>(&router, Some(&caller), &target("70")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    let lead = signed_in(&pool, Role::Lead).await;
    let refused = call::<app::advice::SetP95Target>(&router, Some(&lead), &target("fast")).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("target_ms"), "{}", refused.body);

    // Held to 70 ms, a GPU may be 50% busy (35 / (1 - 0.5) = 70): three are needed.
    let saved = call::<app::advice::SetP95Target>(&router, Some(&lead), &target("70 ms")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let advice = right_size().await.expect("right-sizing");
    assert_eq!(
        advice["action"],
        "Hold 3 H100 80GB HBM3 GPUs instead of up to 4"
    );
    let figures = advice["figures"].to_string();
    assert!(
        figures.contains("Its p95 target is 70 ms (set by a lead on its page)")
            && figures.contains("35.0 ms at no load")
            && figures.contains("reaches the target at 50% busy"),
        "{figures}"
    );
    // Held to 50 ms, what it measures already: none can go.
    let saved = call::<app::advice::SetP95Target>(&router, Some(&lead), &target("50")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(right_size().await, None);
    let page = get(&router, "/deployments/ranker-v6", Some(&lead)).await;
    assert!(
        page.body
            .contains("Held to a p95 of 50 ms (set by a lead on its page)"),
        "{}",
        page.body
    );

    // Cleared, the headroom applies again; each change is audited.
    let cleared = call::<app::advice::SetP95Target>(&router, Some(&lead), &target("")).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    let advice = right_size().await.expect("right-sizing");
    assert_eq!(
        advice["action"],
        "Hold 2 H100 80GB HBM3 GPUs instead of up to 4"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'deployment.p95_target'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 3);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn light_work_on_a_gpu_is_advised_onto_the_cpu_machines_the_fleet_runs(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // A day of one L4 3% busy holding 1.5 GiB, and a CPU machine serving another deployment.
    let samples: Vec<Value> = (1..=24)
        .flat_map(|hours_ago| {
            let ts = (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339();
            [
                json!({
                    "ts": ts, "deployment": "light-v1", "gpu_uuid": "GPU-l4", "gpu_index": 0,
                    "gpu_model": "NVIDIA L4", "interval_s": 3600, "utilization_pct": 3.0,
                    "memory_used_mib": 1536, "power_watts": 20, "requests": 100
                }),
                json!({
                    "ts": ts, "deployment": "cpu-svc", "gpu_uuid": "CPU-node/cpu-svc",
                    "gpu_index": 0, "gpu_model": "c7i.2xlarge", "interval_s": 3600,
                    "utilization_pct": 40.0, "memory_used_mib": 3000, "power_watts": 0,
                    "requests": 100, "cpu_cores": 8
                }),
            ]
        })
        .collect();
    let ingest = token(&pool, "agent", &[Scope::Ingest]).await;
    let body = json!({ "batch_id": uuid::Uuid::new_v4(), "host": "node-3", "samples": samples });
    let stored = api_post(&router, "/api/v1/telemetry", &ingest, &body).await;
    assert_eq!(stored.status, StatusCode::ACCEPTED, "{}", stored.body);

    let reader = token(&pool, "reader", &[Scope::Read]).await;
    let list = bearer(&router, "/api/v1/advice", &reader).await.json();
    let cpu = list["advice"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|a| a["deployment"] == "light-v1" && a["kind"] == "bottleneck")
        })
        .unwrap_or_else(|| panic!("CPU advice: {list}"));
    assert_eq!(
        cpu["action"],
        "Serve it from c7i.2xlarge CPU machines instead of L4 GPUs"
    );
    // 0.03 busy GPU-hours x 20 / 80% = 0.75: one machine an hour, 24 x 0.357 = 8.568 USD where
    // the L4 cost 19.20: 55.375% of 576 USD a month.
    assert_eq!(cpu["saving_per_month"], "318.96");
    // Not the CPU machine's own deployment.
    assert!(
        !list["advice"]
            .as_array()
            .expect("advice")
            .iter()
            .any(|a| a["deployment"] == "cpu-svc"
                && a["action"]
                    .as_str()
                    .is_some_and(|t| t.contains("CPU machines"))),
        "{list}"
    );
    let diagnosis = list["diagnoses"]
        .as_array()
        .and_then(|all| all.iter().find(|d| d["deployment"] == "light-v1"))
        .unwrap_or_else(|| panic!("diagnosis: {list}"));
    assert_eq!(diagnosis["bound"], "waiting");

    let viewer = signed_in(&pool, Role::Viewer).await;
    let page = get(&router, "/deployments/light-v1", Some(&viewer)).await;
    for shown in [
        "What holds it back",
        "mostly waiting",
        "a CPU machine for work this light",
        "Serve it from c7i.2xlarge CPU machines instead of L4 GPUs",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
}
