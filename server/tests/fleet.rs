//! Fleet figures: telemetry through the ingest API, priced by the catalog, read by the pages.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::common::*;
use app::audit::Actor;
use app::auth::Role;
use app::fleet::{LinkDeployment, LoadFleet};
use app::tokens::Scope;

fn sample(
    minutes_ago: i64,
    deployment: &str,
    gpu: &str,
    model: &str,
    utilization: f64,
    requests: i64,
) -> Value {
    json!({
        "ts": (app::clock::now() - chrono::TimeDelta::minutes(minutes_ago)).to_rfc3339(),
        "deployment": deployment, "gpu_uuid": gpu, "gpu_index": 0, "gpu_model": model,
        "interval_s": 1800, "utilization_pct": utilization, "memory_used_mib": 1000,
        "power_watts": 500, "requests": requests
    })
}

async fn ingest(router: &axum::Router, pool: &PgPool, samples: Vec<Value>) {
    let token = app::tokens::store::create(pool, &Actor::System, "agent", &[Scope::Ingest], None)
        .await
        .expect("token")
        .secret;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-1", "samples": samples });
    let request = Request::post("/api/v1/telemetry")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let reply = send(router, request).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
}

/// Posts a batch that must be refused, and answers the paths of the fields it was refused for.
async fn refused_paths(router: &axum::Router, pool: &PgPool, samples: Vec<Value>) -> Vec<String> {
    let token = app::tokens::store::create(pool, &Actor::System, "agent-2", &[Scope::Ingest], None)
        .await
        .expect("token")
        .secret;
    let body =
        json!({ "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-1", "samples": samples });
    let reply = api_post(router, "/api/v1/telemetry", &token, &body).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    reply.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str().map(str::to_owned))
        .collect()
}

fn amount(value: &Value) -> f64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an amount: {value}"))
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn deployment_cost_follows_gpu_hours_price_and_requests(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    ingest(
        &router,
        &pool,
        vec![
            // One H100-hour at half utilization serving 2,000 requests, priced at the 4.00 USD example.
            sample(
                20,
                "fraud-lgbm-v3",
                "GPU-a",
                "NVIDIA H100 80GB HBM3",
                50.0,
                1000,
            ),
            sample(
                50,
                "fraud-lgbm-v3",
                "GPU-a",
                "NVIDIA H100 80GB HBM3",
                50.0,
                1000,
            ),
            // A GPU model the catalog does not know.
            sample(20, "ocr-v1", "GPU-b", "NVIDIA T4", 5.0, 10),
        ],
    )
    .await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let reply = call::<LoadFleet>(&router, Some(&viewer), &[("days", "7")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let fleet = reply.json();
    let fraud = &fleet["deployments"][0];
    assert_eq!(fraud["key"], "fraud-lgbm-v3");
    assert_eq!(fraud["usage"]["requests"], 2000);
    let cost = &fraud["costs"][0];
    assert_eq!(cost["currency"], "USD");
    assert_eq!(amount(&cost["cost"]["reserved"]), 4.0);
    assert_eq!(amount(&cost["cost"]["utilization_weighted"]), 2.0);
    assert_eq!(amount(&cost["per_thousand_reserved"]), 2.0);
    assert_eq!(amount(&cost["per_thousand_utilization_weighted"]), 1.0);

    let ocr = &fleet["deployments"][1];
    assert_eq!(ocr["costs"], json!([]));
    assert_eq!(ocr["unpriced_gpu_hours"], 0.5);

    let idle_gpu = fleet["gpus"]
        .as_array()
        .expect("gpus")
        .iter()
        .find(|g| g["gpu_uuid"] == "GPU-b")
        .cloned();
    assert_eq!(idle_gpu.expect("GPU-b")["idle"], true);

    let page = get(&router, "/fleet?days=7", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("fraud-lgbm-v3") && page.body.contains("4.00 USD"),
        "{}",
        page.body
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_language_model_is_priced_per_million_tokens(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // One H100-hour (4.00 USD reserved) that read 4M tokens, 1M of them from the prefix cache,
    // and wrote 0.5M: prefill did 3M units of work and decode 0.5M x 4 = 2M, so input takes 3/5.
    let with_tokens = |minutes_ago, input: i64, cached: i64, output: i64| {
        let mut sample = sample(
            minutes_ago,
            "chat-llama-8b",
            "GPU-a",
            "NVIDIA H100 80GB HBM3",
            50.0,
            1000,
        );
        sample["input_tokens"] = json!(input);
        sample["cached_input_tokens"] = json!(cached);
        sample["output_tokens"] = json!(output);
        sample["ttft_ms"] = json!({ "p50": 80, "p95": 240 });
        sample
    };
    ingest(
        &router,
        &pool,
        vec![
            with_tokens(20, 2_500_000, 600_000, 300_000),
            with_tokens(50, 1_500_000, 400_000, 200_000),
        ],
    )
    .await;
    let stored = sqlx::query_scalar::<_, i64>(
        "select sum(input_tokens + output_tokens + cached_input_tokens)::int8 from telemetry_sample",
    )
    .fetch_one(&pool)
    .await
    .expect("samples");
    assert_eq!(stored, 5_500_000, "each sample keeps its own counts");

    let token = app::tokens::store::create(&pool, &Actor::System, "reader", &[Scope::Read], None)
        .await
        .expect("token")
        .secret;
    let reply = bearer(&router, "/api/v1/deployments/chat-llama-8b?days=7", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let deployment = reply.json();
    assert_eq!(
        deployment["tokens"],
        json!({ "input": 4_000_000, "output": 500_000, "cached_input": 1_000_000, "requests": 2_000 })
    );
    assert_eq!(deployment["ttft_p95_ms"], 240.0);
    let cost = &deployment["costs"][0];
    let reserved = &cost["per_million_tokens_reserved"];
    assert_eq!(amount(&reserved["input"]), 0.6, "2.40 USD / 4M");
    assert_eq!(amount(&reserved["output"]), 3.2, "1.60 USD / 0.5M");
    assert_eq!(amount(&reserved["blended"]), 0.888889, "4.00 USD / 4.5M");
    let weighted = &cost["per_million_tokens_utilization_weighted"];
    assert_eq!(
        amount(&weighted["output"]),
        1.6,
        "half the GPU time was busy"
    );

    let refused = bearer(
        &router,
        "/api/v1/deployments/chat-llama-8b?days=abc",
        &token,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("use 1, 7, 30 or 90"),
        "{}",
        refused.body
    );

    let missing = bearer(&router, "/api/v1/deployments/no-such-model", &token).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let viewer = signed_in(&pool, Role::Viewer).await;
    let page = get(&router, "/deployments/chat-llama-8b?days=7", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "3.20 USD",
        "per 1M output tokens",
        "4.00M / 500k",
        "25%",
        "240 ms",
    ] {
        assert!(
            page.body.contains(shown),
            "{shown} on the page: {}",
            page.body
        );
    }
    let fleet = get(&router, "/fleet?days=7", Some(&viewer)).await;
    assert!(
        fleet.body.contains("3.20 USD / 1M out tokens"),
        "{}",
        fleet.body
    );

    // Linked to a model, the catalog, the model page and the model card show the same figure.
    let deployment_id: uuid::Uuid = deployment["deployment_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("deployment id");
    app::fleet::store::link(
        &pool,
        &Actor::System,
        deployment_id,
        "chat-llama-8b",
        "v1",
        None,
    )
    .await
    .expect("link");
    let (model_id, version_id): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select model_id, model_version_id from model_version join model using (model_id) \
         where name = 'chat-llama-8b'",
    )
    .fetch_one(&pool)
    .await
    .expect("model");
    let catalog = get(&router, "/catalog", Some(&viewer)).await;
    assert!(
        catalog.body.contains("3.20 USD / 1M out tokens"),
        "{}",
        catalog.body
    );
    let model = get(&router, &format!("/models/{model_id}"), Some(&viewer)).await;
    assert!(
        model.body.contains("3.20 USD per 1M output tokens"),
        "{}",
        model.body
    );
    let card = get(&router, &format!("/cards/{version_id}"), Some(&viewer)).await;
    assert!(
        card.body.contains("Cost per 1M output tokens"),
        "{}",
        card.body
    );
    assert!(card.body.contains("3.20 USD"), "{}", card.body);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn an_ingest_token_cannot_read_a_deployment(pool: PgPool) {
    let router = router(pool.clone());
    let token = app::tokens::store::create(&pool, &Actor::System, "agent", &[Scope::Ingest], None)
        .await
        .expect("token")
        .secret;
    let request = bearer(&router, "/api/v1/deployments/chat-llama-8b", &token).await;
    assert_eq!(request.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&router, "/api/v1/deployments/chat-llama-8b", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_member_links_an_unassigned_deployment_and_a_viewer_cannot(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    ingest(
        &router,
        &pool,
        vec![sample(5, "search-bert-v1", "GPU-c", "NVIDIA L4", 70.0, 50)],
    )
    .await;
    let deployment_id: uuid::Uuid = sqlx::query_scalar("select deployment_id from deployment")
        .fetch_one(&pool)
        .await
        .expect("deployment");
    let id = deployment_id.to_string();
    let form = [
        ("deployment_id", id.as_str()),
        ("model_name", "search-bert"),
        ("version", "v1"),
        ("team_id", HOME_TEAM),
    ];

    let viewer = signed_in(&pool, Role::Viewer).await;
    assert_eq!(
        call::<LinkDeployment>(&router, Some(&viewer), &form)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let member = signed_in(&pool, Role::Member).await;
    let empty = [
        ("deployment_id", id.as_str()),
        ("model_name", " "),
        ("version", ""),
        ("team_id", ""),
    ];
    let refused = call::<LinkDeployment>(&router, Some(&member), &empty).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let linked = call::<LinkDeployment>(&router, Some(&member), &form).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    let model: String = sqlx::query_scalar(
        "select m.name || ' ' || v.version from deployment d join model_version v using (model_version_id) join model m using (model_id)",
    )
    .fetch_one(&pool)
    .await
    .expect("linked");
    assert_eq!(model, "search-bert v1");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'deployment.link'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 1);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_deployment_page_has_its_figures_and_charts(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    ingest(
        &router,
        &pool,
        vec![
            sample(
                20,
                "fraud-lgbm-v3",
                "GPU-a",
                "NVIDIA H100 80GB HBM3",
                50.0,
                1000,
            ),
            sample(
                130,
                "fraud-lgbm-v3",
                "GPU-a",
                "NVIDIA H100 80GB HBM3",
                50.0,
                1000,
            ),
        ],
    )
    .await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let reply = call::<app::fleet::LoadDeployment>(
        &router,
        Some(&viewer),
        &[("key", "fraud-lgbm-v3"), ("days", "1")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let detail = reply.json();
    assert_eq!(detail["bucket_hours"], 1);
    let points = detail["points"].as_array().expect("points");
    assert_eq!(points.len(), 2, "two hours with samples");
    assert_eq!(points[0]["usage"]["requests"], 1000);
    assert_eq!(amount(&points[0]["cost"]), 2.0, "half an H100-hour at 4.00");

    let missing = call::<app::fleet::LoadDeployment>(
        &router,
        Some(&viewer),
        &[("key", "nope"), ("days", "1")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let chart = get(
        &router,
        "/charts/deployments/fraud-lgbm-v3/cost-per-thousand.svg?days=1&theme=dark",
        Some(&viewer),
    )
    .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert_eq!(
        chart
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(
        chart.body.starts_with("<svg") && chart.body.contains("USD per 1k requests"),
        "{}",
        chart.body
    );
    let signed_out = get(
        &router,
        "/charts/deployments/fraud-lgbm-v3/requests.svg",
        None,
    )
    .await;
    assert_eq!(location(&signed_out), "/login");
    let unknown = get(
        &router,
        "/charts/deployments/fraud-lgbm-v3/colours.svg",
        Some(&viewer),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let page = get(&router, "/deployments/fraud-lgbm-v3?days=1", Some(&viewer)).await;
    assert!(
        page.body
            .contains("Requests by hour over the last 24 hours"),
        "{}",
        page.body
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn mig_slices_are_priced_at_their_share_and_add_up_to_the_card(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let slice = |minutes_ago: i64, deployment: &str, gi: u32, profile: &str, sevenths: f64| {
        let mut sample = sample(
            minutes_ago,
            deployment,
            &format!("MIG-GPU-card/{gi}"),
            "NVIDIA H100 80GB HBM3",
            60.0,
            500,
        );
        sample["gpu_share"] = json!(sevenths / 7.0);
        sample["parent_gpu_uuid"] = json!("GPU-card");
        sample["mig_profile"] = json!(profile);
        sample
    };
    // One H100 cut into a 3g.40gb and a 4g.40gb slice, each for one hour, beside a whole card.
    ingest(
        &router,
        &pool,
        vec![
            slice(20, "chat-llama-8b", 1, "3g.40gb", 3.0),
            slice(50, "chat-llama-8b", 1, "3g.40gb", 3.0),
            slice(20, "embedder-v2", 2, "4g.40gb", 4.0),
            slice(50, "embedder-v2", 2, "4g.40gb", 4.0),
            sample(
                20,
                "fraud-lgbm-v3",
                "GPU-whole",
                "NVIDIA H100 80GB HBM3",
                60.0,
                500,
            ),
            sample(
                50,
                "fraud-lgbm-v3",
                "GPU-whole",
                "NVIDIA H100 80GB HBM3",
                60.0,
                500,
            ),
        ],
    )
    .await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let fleet = call::<LoadFleet>(&router, Some(&viewer), &[("days", "7")])
        .await
        .json();
    let reserved = |key: &str| {
        let deployment = fleet["deployments"]
            .as_array()
            .and_then(|all| all.iter().find(|d| d["key"] == key))
            .unwrap_or_else(|| panic!("{key} in {fleet}"));
        amount(&deployment["costs"][0]["cost"]["reserved"])
    };
    // 3/7 and 4/7 of one H100-hour at the 4.00 USD example price.
    assert!(
        (reserved("chat-llama-8b") - 12.0 / 7.0).abs() < 1e-6,
        "{fleet}"
    );
    assert!(
        (reserved("embedder-v2") - 16.0 / 7.0).abs() < 1e-6,
        "{fleet}"
    );
    assert!(
        (reserved("chat-llama-8b") + reserved("embedder-v2") - reserved("fraud-lgbm-v3")).abs()
            < 1e-6,
        "the slices add up to the card"
    );

    let page = get(&router, "/fleet?days=7", Some(&viewer)).await;
    assert!(
        page.body.contains("MIG 3g.40gb (43% of the card)"),
        "the GPU list shows the slice under its card"
    );

    // A share out of range, or a MIG profile without one, is refused by field.
    let mut zero = slice(10, "chat-llama-8b", 1, "3g.40gb", 3.0);
    zero["gpu_share"] = json!(0);
    let mut missing = slice(10, "chat-llama-8b", 1, "3g.40gb", 3.0);
    missing.as_object_mut().expect("object").remove("gpu_share");
    assert_eq!(
        refused_paths(&router, &pool, vec![zero, missing]).await,
        ["samples[0].gpu_share", "samples[1].gpu_share"]
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_gpu_no_deployment_uses_is_its_hosts_idle_capacity_and_pods_show_under_deployments(
    pool: PgPool,
) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let unassigned = |minutes_ago: i64| {
        let mut sample = sample(
            minutes_ago,
            "",
            "GPU-spare",
            "NVIDIA H100 80GB HBM3",
            2.0,
            0,
        );
        sample.as_object_mut().expect("object").remove("deployment");
        sample
    };
    // A card time-shared by two pods of two deployments, each holding half of it.
    let shared = |minutes_ago: i64, deployment: &str, replica: u32, pod: &str| {
        let mut sample = sample(
            minutes_ago,
            deployment,
            &format!("GPU-shared::{replica}"),
            "NVIDIA H100 80GB HBM3",
            40.0,
            100,
        );
        sample["gpu_share"] = json!(0.5);
        sample["parent_gpu_uuid"] = json!("GPU-shared");
        sample["pod"] = json!(pod);
        sample
    };
    ingest(
        &router,
        &pool,
        vec![
            unassigned(20),
            unassigned(50),
            shared(20, "chat-llama-8b", 0, "ml-serving/chat-7d9f-x2"),
            shared(50, "chat-llama-8b", 0, "ml-serving/chat-7d9f-x2"),
            shared(20, "embedder-v2", 1, "ml-serving/embedder-5c-q1"),
            shared(50, "embedder-v2", 1, "ml-serving/embedder-5c-q1"),
        ],
    )
    .await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let fleet = call::<LoadFleet>(&router, Some(&viewer), &[("days", "7")])
        .await
        .json();
    let capacity = &fleet["capacity"];
    assert_eq!(capacity.as_array().map(Vec::len), Some(1), "{fleet}");
    assert_eq!(capacity[0]["host"], "gpu-node-1");
    assert!((capacity[0]["gpu_hours"].as_f64().expect("hours") - 1.0).abs() < 1e-9);
    // One H100-hour at the 4.00 USD on-demand example price.
    assert_eq!(capacity[0]["costs"][0][0], "USD");
    assert!(
        (amount(&capacity[0]["costs"][0][1]) - 4.0).abs() < 1e-9,
        "{capacity}"
    );
    let deployments = fleet["deployments"].as_array().expect("deployments");
    assert_eq!(deployments.len(), 2, "no deployment for the spare GPU");
    for deployment in deployments {
        // Half of one H100-hour each.
        assert!((amount(&deployment["costs"][0]["cost"]["reserved"]) - 2.0).abs() < 1e-9);
    }

    let page = get(&router, "/fleet?days=7", Some(&viewer)).await;
    assert!(
        page.body.contains("Idle capacity, last 7 days"),
        "the section"
    );
    assert!(
        page.body.contains(">idle capacity<"),
        "the spare GPU's badge"
    );
    assert!(page.body.contains("shared (50% of the card)"));
    let detail = get(&router, "/deployments/chat-llama-8b?days=7", Some(&viewer)).await;
    assert!(detail.body.contains("GPUs and pods"));
    assert!(detail.body.contains("ml-serving/chat-7d9f-x2"), "its pod");
    assert!(
        !detail.body.contains("ml-serving/embedder-5c-q1"),
        "not the other deployment's pod"
    );

    // A GPU without a deployment serves nothing: requests are refused by field, nothing stored.
    let mut busy = unassigned(10);
    busy["requests"] = json!(5);
    assert_eq!(
        refused_paths(&router, &pool, vec![unassigned(10), busy]).await,
        ["samples[1].requests"]
    );
    let samples: i64 = sqlx::query_scalar("select count(*) from telemetry_sample")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(samples, 6, "the refused batch left nothing");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_cpu_served_model_is_priced_per_instance_hour_at_its_share_of_the_machine(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    // Half of an 8-core c7i.2xlarge (4 cores) for an hour, and the other half unallotted.
    let cpu = |minutes_ago: i64, deployment: Option<&str>, uuid: &str| {
        let mut sample = sample(minutes_ago, "", uuid, "c7i.2xlarge", 40.0, 0);
        let object = sample.as_object_mut().expect("object");
        object.remove("deployment");
        object.insert("cpu_cores".into(), json!(4));
        object.insert("gpu_share".into(), json!(0.5));
        object.insert("power_watts".into(), json!(0));
        if let Some(deployment) = deployment {
            object.insert("deployment".into(), json!(deployment));
            object.insert("requests".into(), json!(90_000));
            object.insert("pod".into(), json!("fraud/fraud-lgbm-cpu-0"));
        }
        sample
    };
    ingest(
        &router,
        &pool,
        vec![
            cpu(20, Some("fraud-lgbm-cpu"), "cpu:gpu-node-1:fraud"),
            cpu(50, Some("fraud-lgbm-cpu"), "cpu:gpu-node-1:fraud"),
            cpu(20, None, "cpu:gpu-node-1:idle"),
            cpu(50, None, "cpu:gpu-node-1:idle"),
        ],
    )
    .await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let fleet = call::<LoadFleet>(&router, Some(&viewer), &[("days", "7")])
        .await
        .json();
    let deployment = &fleet["deployments"][0];
    assert_eq!(deployment["on_cpu"], true);
    // Half an instance-hour at the 0.357 USD example price, over 180,000 requests.
    let cost = &deployment["costs"][0];
    assert_eq!(amount(&cost["cost"]["reserved"]), 0.1785, "{fleet}");
    assert_eq!(amount(&cost["per_thousand_reserved"]), 0.000992, "{fleet}");
    assert_eq!(amount(&fleet["capacity"][0]["costs"][0][1]), 0.1785);

    let page = get(&router, "/fleet?days=7", Some(&viewer)).await;
    assert!(page
        .body
        .contains("CPU c7i.2xlarge · 4 cores (50% of the machine)"));
    assert!(page.body.contains("1 CPU machine"), "{}", page.body);
    let detail = get(&router, "/deployments/fraud-lgbm-cpu?days=7", Some(&viewer)).await;
    for shown in [
        "0.5 instance-hours at 40% mean utilization<",
        "CPU utilization",
        "Machines and pods",
        "fraud/fraud-lgbm-cpu-0",
    ] {
        assert!(detail.body.contains(shown), "{shown}: {}", detail.body);
    }

    // A CPU machine's cores must be positive, and it has no MIG profile.
    let mut none = cpu(10, Some("fraud-lgbm-cpu"), "cpu:gpu-node-1:fraud");
    none["cpu_cores"] = json!(0);
    let mut profiled = cpu(10, Some("fraud-lgbm-cpu"), "cpu:gpu-node-1:fraud");
    profiled["mig_profile"] = json!("3g.40gb");
    assert_eq!(
        refused_paths(&router, &pool, vec![none, profiled]).await,
        ["samples[0].cpu_cores", "samples[1].mig_profile"]
    );
}
