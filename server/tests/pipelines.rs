//! Pipelines: who may add them, the answer the page and the API give, and bad input refused by
//! field and line.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;

use crate::common::*;
use app::audit::Actor;
use app::auth::Role;
use app::experiments::fields::run_from_fields;
use app::experiments::{store, ExperimentForm};
use app::tokens::Scope;

/// An experiment of the home team, at 1,000,000 requests a month, with runs priced per request:
/// (name, metric value, price per request, p50, p95); its id.
async fn experiment(
    pool: &PgPool,
    name: &str,
    metric: &str,
    runs: &[(&str, &str, &str, &str, &str)],
) -> uuid::Uuid {
    let actor = Actor::System;
    let form = ExperimentForm {
        name: name.into(),
        team_id: HOME_TEAM.into(),
        task_type: "ranking".into(),
        primary_metric: metric.into(),
        monthly_volume: "1000000".into(),
        ..ExperimentForm::default()
    };
    let id = store::create(pool, &actor, form.parse().expect("form"), false)
        .await
        .expect("experiment");
    let specs = runs
        .iter()
        .map(|(run, value, price, p50, p95)| {
            let fields: BTreeMap<String, String> = [
                ("name", *run),
                (metric, *value),
                ("price_per_request", *price),
                ("latency_p50_ms", *p50),
                ("latency_p95_ms", *p95),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            run_from_fields(&fields).expect("a valid run")
        })
        .collect();
    store::add_runs(pool, &actor, id, specs)
        .await
        .expect("runs");
    id
}

/// A pipeline of the home team added by `lead` through the page's form; its id.
async fn add_pipeline(
    router: &axum::Router,
    lead: &str,
    name: &str,
    stages: &str,
    sla: &str,
    volume: &str,
) -> uuid::Uuid {
    let created = call::<app::pipelines::CreatePipeline>(
        router,
        Some(lead),
        &[
            ("name", name),
            ("team_id", HOME_TEAM),
            ("description", ""),
            ("stages", stages),
            ("sla", sla),
            ("monthly_volume", volume),
            ("currency", "USD"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    serde_json::from_str(&created.body).expect("id")
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_lead_adds_a_pipeline_and_pareto_picks_its_cheapest_combination(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    experiment(
        &pool,
        "Retrieval",
        "recall",
        &[
            ("bm25", "0.88", "0.00001", "6", "14"),
            ("dense", "0.94", "0.00003", "9", "21"),
        ],
    )
    .await;
    experiment(
        &pool,
        "Ranking",
        "ndcg",
        &[
            ("gbt", "0.431", "0.0001", "4", "9"),
            ("tower", "0.452", "0.0004", "14", "38"),
            ("xl", "0.47", "0.002", "60", "140"),
        ],
    )
    .await;
    let form = |stages: &str| {
        vec![
            ("name", "Product search".to_owned()),
            ("team_id", HOME_TEAM.to_owned()),
            ("description", String::new()),
            ("stages", stages.to_owned()),
            ("sla", "p95 <= 60 ms\nndcg >= 0.44".to_owned()),
            ("monthly_volume", "10,000,000".to_owned()),
            ("currency", "USD".to_owned()),
        ]
    };
    let good = form("retrieval | Retrieval | 100% | 1\nranking | Ranking | 100% | 1");
    fn fields<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        form.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    for caller in [&viewer, &member] {
        let refused =
            call::<app::pipelines::CreatePipeline>(&router, Some(caller), &fields(&good)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    let lead = signed_in(&pool, Role::Lead).await;
    // A bad line is named by its number; an unknown experiment by its stage's line.
    let bad = form("retrieval | Retrieval | 100% | 1\nranking | Ranking | 140% | 1");
    let refused = call::<app::pipelines::CreatePipeline>(&router, Some(&lead), &fields(&bad)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("stages") && refused.body.contains("line 2"),
        "{}",
        refused.body
    );
    let unknown = form("retrieval | Retrieval | 100% | 1\nranking | Rankers | 100% | 1");
    let refused =
        call::<app::pipelines::CreatePipeline>(&router, Some(&lead), &fields(&unknown)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("no experiment is named Rankers"),
        "{}",
        refused.body
    );
    let none: i64 = sqlx::query_scalar("select count(*) from pipeline")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(none, 0, "nothing half-written");

    let created =
        call::<app::pipelines::CreatePipeline>(&router, Some(&lead), &fields(&good)).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id: uuid::Uuid = serde_json::from_str(&created.body).expect("id");

    let reader = app::tokens::store::create(&pool, &Actor::System, "reader", &[Scope::Read], None)
        .await
        .expect("token")
        .secret;
    let found = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let view = found.json();
    // bm25 then tower: 0.01 + 0.40 per 1,000 requests, 4,100 USD a month at 10 M; gbt misses
    // NDCG 0.44 and xl the p95.
    let best = &view["found"]["best"];
    assert_eq!(best["picks"], json!([0, 1]), "{view}");
    assert!((best["cost_per_1k"].as_f64().unwrap_or_default() - 0.41).abs() < 1e-9);
    assert!((best["monthly"].as_f64().unwrap_or_default() - 4100.0).abs() < 1e-6);
    let p95 = best["p95_ms"].as_f64().unwrap_or_default();
    assert!(p95 <= 60.0 && p95 < best["p95_upper_ms"].as_f64().unwrap_or_default());
    assert_eq!(best["bottleneck"], 1);
    assert_eq!(view["found"]["frontier"].as_array().map(Vec::len), Some(2));
    assert_eq!(view["found"]["combinations"], 6);

    let page = get(&router, &format!("/pipelines/{id}"), Some(&lead)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.shows(&[
        "Cheapest within the SLA",
        "retrieval: bm25 → ranking: tower",
        "4,100 USD",
    ]);
    // Its evaluation report, as Markdown and to print with the frontier drawn in.
    let report = get(
        &router,
        &format!("/pipelines/{id}/report.md"),
        Some(&viewer),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    report.shows(&[
        "# Pipeline evaluation: Product search",
        "### Stage 2: ranking",
        "| tower | 0.4 USD | 14 ms | 38 ms | 0.452 |",
        "**retrieval: bm25 → ranking: tower**: 0.41 USD per 1,000 requests, 4,100 USD a month",
        "Its bottleneck is the ranking stage.",
        "Fenton–Wilkinson",
    ]);
    let printed = get(
        &router,
        &format!("/pipelines/{id}/report.html"),
        Some(&viewer),
    )
    .await;
    assert_eq!(printed.status, StatusCode::OK);
    assert!(
        printed
            .body
            .contains("<h1>Pipeline evaluation: Product search</h1>")
            && printed.body.contains("<svg"),
        "{}",
        printed.body
    );
    assert_ne!(
        get(&router, &format!("/pipelines/{id}/report.html"), None)
            .await
            .status,
        StatusCode::OK
    );
    // The list, with the form a lead adds one with (a viewer sees no form).
    let listed = get(&router, "/pipelines", Some(&lead)).await;
    listed.shows(&[
        "Product search",
        "retrieval → ranking",
        "Add a pipeline",
        "id=\"pipeline-stages\"",
    ]);
    let listed = get(&router, "/pipelines", Some(&viewer)).await;
    assert!(listed.body.contains("Product search") && !listed.body.contains("Add a pipeline"));
    // The frontier drawn on the server, for signed-in people only.
    let chart = get(
        &router,
        &format!("/charts/pipelines/{id}/frontier.svg"),
        Some(&viewer),
    )
    .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(
        chart.body.starts_with("<svg") && chart.body.contains("bm25 → tower"),
        "{}",
        chart.body
    );
    let anonymous = get(
        &router,
        &format!("/charts/pipelines/{id}/frontier.svg"),
        None,
    )
    .await;
    assert_ne!(anonymous.status, StatusCode::OK);
    let list = bearer(&router, "/api/v1/pipelines", &reader).await.json();
    assert_eq!(list[0]["stages"], json!(["retrieval", "ranking"]));

    // Hybrid routing: 10% of requests to xl on bm25 + tower: 0.9 x 0.41 + 0.1 x 2.01 = 0.57 per
    // 1,000, 5,700 a month, 14,400 less than all of it to xl.
    let blend = bearer(
        &router,
        &format!("/api/v1/pipelines/{id}/hybrid?stage=2&light=2&heavy=3&share_pct=10"),
        &reader,
    )
    .await;
    assert_eq!(blend.status, StatusCode::OK, "{}", blend.body);
    let blend = blend.json();
    assert!(
        (blend["monthly"].as_f64().unwrap_or_default() - 5_700.0).abs() < 1e-6,
        "{blend}"
    );
    assert!((blend["saving_per_month"].as_f64().unwrap_or_default() - 14_400.0).abs() < 1e-6);
    let refused = call::<app::pipelines::BlendPipeline>(
        &router,
        Some(&viewer),
        &[
            ("pipeline_id", id.to_string().as_str()),
            ("light", "1:1"),
            ("heavy", "2:3"),
            ("share_pct", "10"),
        ],
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("same stage"), "{}", refused.body);

    // Measured end to end, bm25 then gbt reaches NDCG 0.46: it meets the SLA and, cheapest,
    // becomes the answer.
    let writer = app::tokens::store::create(&pool, &Actor::System, "writer", &[Scope::Write], None)
        .await
        .expect("token")
        .secret;
    let runs = format!("/api/v1/pipelines/{id}/runs");
    let refused = api_post(
        &router,
        &runs,
        &reader,
        &json!({"runs": ["bm25", "gbt"], "value": 0.46}),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let short = api_post(
        &router,
        &runs,
        &writer,
        &json!({"runs": ["bm25"], "value": 0.46}),
    )
    .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.body
    );
    assert!(
        short.body.contains("one run key per stage"),
        "{}",
        short.body
    );
    let unknown = api_post(
        &router,
        &runs,
        &writer,
        &json!({"runs": ["bm25", "nope"], "value": 0.46}),
    )
    .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert!(
        unknown
            .body
            .contains("Stage “ranking” has no run with the key nope"),
        "{}",
        unknown.body
    );
    let recorded = api_post(
        &router,
        &runs,
        &writer,
        &json!({"runs": ["bm25", "gbt"], "value": 0.46}),
    )
    .await;
    assert_eq!(recorded.status, StatusCode::NO_CONTENT, "{}", recorded.body);
    let view = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
        .await
        .json();
    assert_eq!(view["found"]["best"]["picks"], json!([0, 0]), "{view}");
    assert_eq!(view["found"]["best"]["quality"], 0.46);
    assert_eq!(view["measured"][0], json!([["bm25", "gbt"], 0.46]));
    // Hybrid routing reads the measured figure too: 90% at 0.46, 10% at xl's 0.47.
    let blend = bearer(
        &router,
        &format!("/api/v1/pipelines/{id}/hybrid?stage=2&light=1&heavy=3&share_pct=10"),
        &reader,
    )
    .await
    .json();
    assert!(
        (blend["quality"].as_f64().unwrap_or_default() - 0.461).abs() < 1e-9,
        "{blend}"
    );

    // Over the API: a write token adds one, a read token may not.
    let body = json!({
        "name": "Search, dense", "team": "Home", "monthly_volume": 1000000,
        "stages": [{"name": "retrieval", "experiment": "Retrieval", "share": 1.0, "fan_out": 1.0}],
        "sla": ["p95 <= 30 ms"]
    });
    // A stage out of range is named by its place in the list.
    let mut wide = body.clone();
    wide["stages"][0]["share"] = json!(1.5);
    let refused = api_post(&router, "/api/v1/pipelines", &writer, &wide).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("stage 1: Stage “retrieval”: give the share"),
        "{}",
        refused.body
    );
    let refused = api_post(&router, "/api/v1/pipelines", &reader, &body).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let added = api_post(&router, "/api/v1/pipelines", &writer, &body).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action in ('pipeline.create', 'pipeline.run')",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 3);

    // A lead changes it: NDCG 0.465 and p95 within 200 ms leave only xl in the ranking stage, so
    // bm25 then xl, 2.01 per 1,000, 20,100 a month. A viewer or member may not, and a bad stage
    // line is named and changes nothing.
    let change = |stages: &str, sla: &str| {
        vec![
            ("pipeline_id", id.to_string()),
            ("name", "Product search".to_owned()),
            ("description", String::new()),
            ("stages", stages.to_owned()),
            ("sla", sla.to_owned()),
            ("monthly_volume", "10000000".to_owned()),
            ("currency", "USD".to_owned()),
        ]
    };
    let stages = "retrieval | Retrieval | 100% | 1\nranking | Ranking | 100% | 1";
    let tighter = change(stages, "p95 <= 200 ms\nndcg >= 0.465");
    for caller in [&viewer, &member] {
        let refused =
            call::<app::pipelines::UpdatePipeline>(&router, Some(caller), &fields(&tighter)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
    let bad = change(
        "retrieval | Retrieval | 100% | 1\nranking | Ranking | 100%",
        "p95 <= 200 ms",
    );
    let refused = call::<app::pipelines::UpdatePipeline>(&router, Some(&lead), &fields(&bad)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("line 2"), "{}", refused.body);
    let unchanged = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
        .await
        .json();
    assert_eq!(unchanged["found"]["best"]["picks"], json!([0, 0]));
    let changed =
        call::<app::pipelines::UpdatePipeline>(&router, Some(&lead), &fields(&tighter)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let view = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
        .await
        .json();
    assert_eq!(view["found"]["best"]["picks"], json!([0, 2]), "{view}");
    assert!(
        (view["found"]["best"]["monthly"]
            .as_f64()
            .unwrap_or_default()
            - 20_100.0)
            .abs()
            < 1e-6
    );
    // The same over the API, whole: a tenth of the volume, a tenth of the bill.
    let put = |token: &str, body: serde_json::Value| {
        axum::http::Request::put(format!("/api/v1/pipelines/{id}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .expect("request")
    };
    let whole = json!({
        "name": "Product search", "monthly_volume": 1000000,
        "stages": [
            {"name": "retrieval", "experiment": "Retrieval", "share": 1.0, "fan_out": 1.0},
            {"name": "ranking", "experiment": "Ranking", "share": 1.0, "fan_out": 1.0}
        ],
        "sla": ["p95 <= 200 ms", "ndcg >= 0.465"]
    });
    let refused = send(&router, put(&reader, whole.clone())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let put_done = send(&router, put(&writer, whole)).await;
    assert_eq!(put_done.status, StatusCode::NO_CONTENT, "{}", put_done.body);
    let view = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
        .await
        .json();
    assert!(
        (view["found"]["best"]["monthly"]
            .as_f64()
            .unwrap_or_default()
            - 2_010.0)
            .abs()
            < 1e-6,
        "{view}"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'pipeline.update'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 2);

    // A lead deletes it; its page then answers 404.
    let deleted = call::<app::pipelines::DeletePipeline>(
        &router,
        Some(&lead),
        &[("pipeline_id", id.to_string().as_str())],
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(
        bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_portfolio_moves_budget_to_where_a_point_is_worth_more(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let segmentation = experiment(
        &pool,
        "Segmentation",
        "f1",
        &[
            ("seg-small", "0.874", "0.0009", "5", "9"),
            ("seg-large", "0.880", "0.004", "9", "20"),
        ],
    )
    .await;
    let fraud = experiment(
        &pool,
        "Fraud",
        "precision",
        &[
            ("fraud-gbt", "0.90", "0.001", "3", "6"),
            ("fraud-gnn", "0.93", "0.0035", "8", "15"),
        ],
    )
    .await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    // Each recommends its cheapest (900 and 1,000 a month); within 5,000 the fraud model's
    // larger candidate (3 points at 1,500 a point) pays, segmentation's (0.6 at 200) does not.
    let chosen = format!("{segmentation}:200;{fraud}:1500");
    let found = call::<app::pipelines::LoadPortfolio>(
        &router,
        Some(&viewer),
        &[("budget", "5000"), ("chosen", chosen.as_str())],
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let view: serde_json::Value = serde_json::from_str(&found.body).expect("json");
    assert_eq!(view["found"]["picks"], json!([0, 1]), "{view}");
    assert_eq!(view["found"]["monthly"], 4400.0);
    assert_eq!(
        view["found"]["moves"],
        json!(["Fraud: take fraud-gnn instead of fraud-gbt, 3 points of Precision more, 2,500 USD a month more"])
    );
    // Too small a budget is said, not an error.
    let tight = call::<app::pipelines::LoadPortfolio>(
        &router,
        Some(&viewer),
        &[("budget", "1000"), ("chosen", chosen.as_str())],
    )
    .await;
    assert!(tight.body.contains("Nothing fits"), "{}", tight.body);
    // The page reads the choice from its address, so a link shares it.
    let page = get(
        &router,
        &format!(
            "/portfolio?budget=5000&e={segmentation}&v_{segmentation}=200&e={fraud}&v_{fraud}=1500"
        ),
        Some(&viewer),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("take fraud-gnn instead of fraud-gbt"),
        "{}",
        page.body
    );
    let anonymous = call::<app::pipelines::LoadPortfolio>(
        &router,
        None,
        &[("budget", "5000"), ("chosen", chosen.as_str())],
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Kept by name (leads only), listed with a link that asks it again, and downloaded.
    let save = |name: &'static str| {
        [
            ("name", name.to_owned()),
            ("budget", "5000".to_owned()),
            ("chosen", chosen.clone()),
        ]
    };
    fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        form.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
    let refused =
        call::<app::pipelines::SavePortfolio>(&router, Some(&viewer), &pairs(&save("Q1"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let lead = signed_in(&pool, Role::Lead).await;
    let unnamed =
        call::<app::pipelines::SavePortfolio>(&router, Some(&lead), &pairs(&save("  "))).await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unnamed.body.contains("Name the scenario"),
        "{}",
        unnamed.body
    );
    let saved =
        call::<app::pipelines::SavePortfolio>(&router, Some(&lead), &pairs(&save("Q1"))).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let scenario: uuid::Uuid = serde_json::from_str(&saved.body).expect("id");
    let again =
        call::<app::pipelines::SavePortfolio>(&router, Some(&lead), &pairs(&save("q1"))).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("already named"), "{}", again.body);
    let page = get(&router, "/portfolio", Some(&viewer)).await;
    let link = format!(
        "/portfolio?budget=5000&amp;e={segmentation}&amp;v_{segmentation}=200&amp;e={fraud}&amp;v_{fraud}=1500"
    );
    assert!(
        page.body.contains("Saved scenarios") && page.body.contains(&link),
        "{}",
        page.body
    );
    let csv = get(
        &router,
        &format!("/portfolio/export.csv?budget=5000&chosen={chosen}"),
        Some(&viewer),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 4, "{}", csv.body);
    assert!(lines[0].starts_with("Experiment,Metric,"), "{}", lines[0]);
    assert!(
        lines[2].starts_with(
            "Fraud,Precision,1500,fraud-gbt,1000.00,0.9,fraud-gnn,3500.00,0.93,2500.00,USD"
        ),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3], "Total,,,,1900.00,,,4400.00,,2500.00,USD");
    let xlsx = get(
        &router,
        &format!("/portfolio/export.xlsx?budget=5000&chosen={chosen}"),
        Some(&viewer),
    )
    .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.body.starts_with("PK"), "a zip archive");
    // A budget nothing fits into is refused with why; no session, no file.
    let tight = get(
        &router,
        &format!("/portfolio/export.csv?budget=10&chosen={chosen}"),
        Some(&viewer),
    )
    .await;
    assert_eq!(tight.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(tight.body.contains("Nothing fits"), "{}", tight.body);
    let anonymous = get(
        &router,
        &format!("/portfolio/export.csv?budget=5000&chosen={chosen}"),
        None,
    )
    .await;
    assert_ne!(anonymous.status, StatusCode::OK);
    // A pipeline takes its place in a portfolio like an experiment: its combinations that meet
    // its SLA are the choices, its cheapest its own.
    let chain = add_pipeline(
        &router,
        &lead,
        "Fraud chain",
        "score | Fraud | 100% | 1",
        "precision >= 0.85",
        "1000000",
    )
    .await;
    let with_pipeline = format!("{segmentation}:200;{chain}:1500");
    let found = call::<app::pipelines::LoadPortfolio>(
        &router,
        Some(&viewer),
        &[("budget", "5000"), ("chosen", with_pipeline.as_str())],
    )
    .await;
    let view = found.json();
    assert_eq!(view["found"]["picks"], json!([0, 1]), "{view}");
    assert_eq!(
        view["found"]["moves"][0],
        "Fraud chain: take fraud-gnn instead of fraud-gbt, 3 points of Precision more, 2,500 USD a month more"
    );
    let mixed = [
        ("name", "With the chain".to_owned()),
        ("budget", "5000".to_owned()),
        ("chosen", with_pipeline.clone()),
    ];
    let saved = call::<app::pipelines::SavePortfolio>(&router, Some(&lead), &pairs(&mixed)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let page = get(&router, "/portfolio", Some(&viewer)).await;
    assert!(
        page.body.contains("Segmentation, Fraud chain")
            && page.body.contains("Fraud chain (pipeline)"),
        "{}",
        page.body
    );
    let deleted = call::<app::pipelines::DeletePortfolio>(
        &router,
        Some(&lead),
        &[("scenario_id", scenario.to_string().as_str())],
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action in ('portfolio.save', 'portfolio.delete')",
    )
    .fetch_one(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, 3, "two saved, one deleted");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_guide_walks_the_demo_organizations_live_pages(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    // Without the demo, it says how to load it and links the lists the exercises start from.
    let bare = get(&router, "/guide", Some(&viewer)).await;
    assert_eq!(bare.status, StatusCode::OK);
    assert!(
        bare.body.contains("pareto demo") && bare.body.contains("href=\"/pipelines\""),
        "{}",
        bare.body
    );
    pareto_server::demo::load(&pool, Some("demo password 2026".into()))
        .await
        .expect("the demo");
    let pipeline: uuid::Uuid = sqlx::query_scalar("select pipeline_id from pipeline where is_demo")
        .fetch_one(&pool)
        .await
        .expect("the demo pipeline");
    let sentiment: uuid::Uuid =
        sqlx::query_scalar("select experiment_id from experiment where name = 'Review sentiment'")
            .fetch_one(&pool)
            .await
            .expect("the demo experiment");
    let guide = get(&router, "/guide", Some(&viewer)).await;
    guide.shows(&[
        "Choose a classifier under an F1 and latency SLA",
        "Redesign a two-stage recommender for peak traffic",
        "Govern the choices",
        &format!("href=\"/pipelines/{pipeline}\""),
        &format!("href=\"/experiments/{sentiment}/report.html\""),
        "href=\"/portfolio?budget=3500&amp;e=",
    ]);
    assert!(!guide.body.contains("Load it into this database"));
    assert_ne!(get(&router, "/guide", None).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_lead_keeps_a_hybrid_route_and_the_page_works_it_out(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    experiment(
        &pool,
        "Retrieval",
        "recall",
        &[("bm25", "0.88", "0.00001", "6", "14")],
    )
    .await;
    experiment(
        &pool,
        "Ranking",
        "ndcg",
        &[
            ("tower", "0.452", "0.0004", "14", "38"),
            ("xl", "0.47", "0.002", "60", "140"),
        ],
    )
    .await;
    let lead = signed_in(&pool, Role::Lead).await;
    let id = add_pipeline(
        &router,
        &lead,
        "Search",
        "retrieval | Retrieval | 100% | 1\nranking | Ranking | 100% | 1",
        "p95 <= 200 ms",
        "10000000",
    )
    .await;
    let route = |share: &'static str| {
        vec![
            ("pipeline_id", id.to_string()),
            ("light", "2:1".to_owned()),
            ("heavy", "2:2".to_owned()),
            ("share_pct", share.to_owned()),
        ]
    };
    fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        form.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
    let viewer = signed_in(&pool, Role::Viewer).await;
    let refused =
        call::<app::pipelines::KeepRoute>(&router, Some(&viewer), &pairs(&route("10"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let bad = call::<app::pipelines::KeepRoute>(&router, Some(&lead), &pairs(&route("140"))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("share_pct"), "{}", bad.body);
    let kept = call::<app::pipelines::KeepRoute>(&router, Some(&lead), &pairs(&route("10"))).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    // 10% to xl on bm25 + tower: 0.9 × 0.41 + 0.1 × 2.01 = 0.57 per 1,000, 5,700 a month.
    let reader = app::tokens::store::create(&pool, &Actor::System, "reader", &[Scope::Read], None)
        .await
        .expect("token")
        .secret;
    let view = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
        .await
        .json();
    let route_view = &view["route"];
    assert_eq!(
        (route_view["light"].as_str(), route_view["heavy"].as_str()),
        (Some("tower"), Some("xl")),
        "{view}"
    );
    assert!(
        (route_view["blend"]["monthly"].as_f64().unwrap_or_default() - 5_700.0).abs() < 1e-6,
        "{route_view}"
    );
    let page = get(&router, &format!("/pipelines/{id}"), Some(&viewer)).await;
    assert!(
        page.body.contains("Route in use")
            && page
                .body
                .contains("10% of requests go to xl in the ranking stage, the rest to tower."),
        "{}",
        page.body
    );
    let stopped = call::<app::pipelines::StopRoute>(
        &router,
        Some(&lead),
        &[("pipeline_id", id.to_string().as_str())],
    )
    .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    let view = bearer(&router, &format!("/api/v1/pipelines/{id}"), &reader)
        .await
        .json();
    assert!(view["route"].is_null(), "{view}");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'pipeline.route'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 2);
}
