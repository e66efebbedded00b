//! Experiments through the real router: the forms, the CSV upload, the API and the frontier chart,
//! with their role checks.

use axum::http::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::common::*;
use app::audit::Actor;
use app::auth::Role;
use app::experiments::{
    AddRun, CompareRuns, CreateExperiment, ImportMlflow, LoadExperiment, SaveCascade, UploadRuns,
};
use app::tokens::Scope;

async fn team(pool: &PgPool) -> String {
    let team = new_team(pool, "Search & Ranking").await;
    join_every_team(pool).await;
    team.to_string()
}

async fn create_experiment(router: &axum::Router, cookie: &str, team_id: &str) -> Reply {
    call::<CreateExperiment>(
        router,
        Some(cookie),
        &[
            ("name", "Review sentiment"),
            ("team_id", team_id),
            ("task_type", "classification"),
            ("dataset", "24,000 reviews"),
            ("primary_metric", "F1"),
            ("direction", ""),
            ("constraints", "f1 >= 0.90\np95 <= 150 ms"),
            ("monthly_volume", "3,000,000"),
            ("mode", "real_time"),
            ("currency", ""),
        ],
    )
    .await
}

async fn experiment(router: &axum::Router, pool: &PgPool, cookie: &str) -> String {
    let team_id = team(pool).await;
    let created = create_experiment(router, cookie, &team_id).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    created.json().as_str().expect("id").to_owned()
}

async fn add_run(router: &axum::Router, cookie: &str, id: &str, fields: &[(&str, &str)]) -> Reply {
    let mut form = vec![("experiment_id".to_owned(), id.to_owned())];
    form.extend(
        fields
            .iter()
            .map(|(k, v)| (format!("fields[{k}]"), (*v).to_owned())),
    );
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    call::<AddRun>(router, Some(cookie), &pairs).await
}

const DISTILBERT: &[(&str, &str)] = &[
    ("name", "DistilBERT"),
    ("metrics", "f1=0.913, accuracy=0.92"),
    ("latency_p95_ms", "24"),
    ("throughput_rps", "420"),
    ("gpu_model", "NVIDIA L4"),
    ("pricing", "self_hosted"),
];

const BERT: &[(&str, &str)] = &[
    ("name", "BERT-base"),
    ("metrics", "f1=0.931"),
    ("latency_p95_ms", "61"),
    ("throughput_rps", "140"),
    ("gpu_model", "NVIDIA A100-SXM4-80GB"),
    ("pricing", "self_hosted"),
];

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn runs_added_in_the_form_are_priced_from_the_catalog_and_the_cheapest_that_meets_the_sla_is_recommended(
    pool: PgPool,
) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    for run in [DISTILBERT, BERT] {
        let added = add_run(&router, &member, &id, run).await;
        assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    }
    let logistic = [
        ("name", "Logistic regression"),
        ("metrics", "f1=0.84"),
        ("latency_p95_ms", "3"),
        ("throughput_rps", "2500"),
        ("cpu_instance", "c6i.xlarge"),
        ("hourly_price", "0.17"),
    ];
    assert_eq!(
        add_run(&router, &member, &id, &logistic).await.status,
        StatusCode::OK
    );

    let view = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let view = view.json();
    // L4 at the example 0.80 USD/h, always on: 584 USD/month; A100 at 2.50 USD/h: 1,825 USD/month.
    assert_eq!(
        view["recommendation"],
        "DistilBERT meets F1 ≥ 0.9 and p95 latency ≤ 150 ms at 584.00 USD/month, 1,241.00 USD/month less than BERT-base."
    );
    let runs = view["runs"].as_array().expect("runs");
    assert_eq!(runs[0]["name"], "DistilBERT");
    assert_eq!(runs[0]["recommended"], true);
    assert!(
        runs[0]["price_source"]
            .as_str()
            .expect("source")
            .starts_with("price catalog: on-demand 0.80 USD per GPU-hour × 1"),
        "{}",
        runs[0]["price_source"]
    );
    let logistic = runs
        .iter()
        .find(|r| r["name"] == "Logistic regression")
        .expect("run");
    assert_eq!(logistic["meets_all"], false);
    assert_eq!(
        logistic["checks"][0]["reason"],
        "F1 0.84 is 0.06 short of 0.9 (6.7%)"
    );

    // The same run again is a duplicate, a changed run under the same name a conflict.
    let again = add_run(&router, &member, &id, DISTILBERT).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(count(&pool, "experiment_run").await, 3);

    let page = get(&router, &format!("/experiments/{id}"), Some(&member)).await;
    assert!(
        page.body.contains("Decision matrix"),
        "the page shows the matrix"
    );
    assert!(
        page.body.contains("DistilBERT meets F1"),
        "and the recommendation"
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_bad_run_is_refused_field_by_field_and_nothing_is_stored(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let reply = add_run(
        &router,
        &member,
        &id,
        &[
            ("name", "Broken"),
            ("metrics", "f1=high"),
            ("latency_p50_ms", "30"),
            ("latency_p95_ms", "20"),
            ("gpu_model", "NVIDIA Z9"),
            ("throughput_rps", "10"),
        ],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let fields: Vec<String> = reply.json()["Validation"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["metrics", "latency_p50_ms"]);
    // Well-formed, but the catalog has no price for this GPU.
    let reply = add_run(
        &router,
        &member,
        &id,
        &[
            ("name", "Unpriced"),
            ("gpu_model", "NVIDIA Z9"),
            ("throughput_rps", "10"),
        ],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("hourly_price")
            && reply.body.contains("no on-demand USD price for NVIDIA Z9"),
        "{}",
        reply.body
    );
    assert_eq!(count(&pool, "experiment_run").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_viewer_reads_experiments_but_cannot_change_them(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let team_id = team(&pool).await;
    let refused = create_experiment(&router, &viewer, &team_id).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(count(&pool, "experiment").await, 0);

    let created = create_experiment(&router, &member, &team_id).await;
    let id = created.json().as_str().expect("id").to_owned();
    assert_eq!(
        add_run(&router, &viewer, &id, DISTILBERT).await.status,
        StatusCode::FORBIDDEN
    );
    let upload = call::<UploadRuns>(
        &router,
        Some(&viewer),
        &[
            ("experiment_id", &id),
            ("csv", "name,f1,price_per_request\nA,0.9,0.001\n"),
        ],
    )
    .await;
    assert_eq!(upload.status, StatusCode::FORBIDDEN);
    let cascade = call::<SaveCascade>(
        &router,
        Some(&viewer),
        &[
            ("experiment_id", &id),
            ("name", "x"),
            ("cheap_run_id", ""),
            ("expensive_run_id", ""),
            ("share_kept_pct", "50"),
            ("threshold", ""),
            ("kept_quality", ""),
            ("passed_quality", ""),
        ],
    )
    .await;
    assert_eq!(cascade.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&pool, "experiment_run").await, 0);

    let read = call::<LoadExperiment>(&router, Some(&viewer), &[("experiment_id", &id)]).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let anonymous = call::<LoadExperiment>(&router, None, &[("experiment_id", &id)]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // A form posted from another site is refused before it reaches the server function.
    let cross = call_from::<CreateExperiment>(
        &router,
        Some(&member),
        &[("name", "x"), ("team_id", &team_id)],
        "cross-site",
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_csv_upload_stores_every_line_or_none(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let upload = |csv: &'static str| {
        let router = router.clone();
        let member = member.clone();
        let id = id.clone();
        async move {
            call::<UploadRuns>(
                &router,
                Some(&member),
                &[("experiment_id", &id), ("csv", csv)],
            )
            .await
        }
    };

    let bad = upload(
        "name,f1,latency_p95_ms,gpu_model,throughput_rps,price_per_request\n\
         DistilBERT,0.91,24,NVIDIA L4,420,\n\
         Hosted,0.94,oops,,,0.002\n\
         Broken,0.5,10,NVIDIA Z9,5,\n",
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body
            .contains("line 3, column latency_p95_ms: `oops` is not a number."),
        "{}",
        bad.body
    );
    assert_eq!(
        count(&pool, "experiment_run").await,
        0,
        "nothing is half-imported"
    );

    // Lines that read well but cannot be priced are refused with their line too.
    let unpriced = upload(
        "name,f1,gpu_model,throughput_rps\nDistilBERT,0.91,NVIDIA L4,420\nBroken,0.5,NVIDIA Z9,5\n",
    )
    .await;
    assert_eq!(unpriced.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unpriced.body.contains("line 3, column hourly_price"),
        "{}",
        unpriced.body
    );
    assert_eq!(count(&pool, "experiment_run").await, 0);

    let good = "\u{feff}name,f1,latency_p95_ms,gpu_model,throughput_rps,price_per_request\n\
                DistilBERT,0.91,24,NVIDIA L4,420,\n\
                \"Hosted, large\",0.94,900,,,0.002\n";
    let stored = upload(good).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    assert_eq!(stored.json(), json!({ "added": 2, "duplicates": 0 }));
    let again = upload(good).await;
    assert_eq!(again.json(), json!({ "added": 0, "duplicates": 2 }));
    assert_eq!(count(&pool, "experiment_run").await, 2);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn pipelines_post_experiments_and_runs_idempotently(pool: PgPool) {
    let router = router(pool.clone());
    team(&pool).await;
    let (_, writer) = token(&pool, "pipeline", &[Scope::Write]).await;
    let (_, reader) = token(&pool, "dashboard", &[Scope::Read]).await;
    let (_, agent) = token(&pool, "agent", &[Scope::Ingest]).await;

    let spec = json!({
        "name": "Review sentiment", "team": "search & ranking", "task_type": "classification",
        "primary_metric": "f1", "constraints": ["f1 >= 0.9"], "monthly_volume": 3_000_000
    });
    assert_eq!(
        api_post(&router, "/api/v1/experiments", &agent, &spec)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let unknown_team = api_post(
        &router,
        "/api/v1/experiments",
        &writer,
        &json!({ "name": "x", "team": "Nobody", "task_type": "vision", "primary_metric": "f1" }),
    )
    .await;
    assert_eq!(unknown_team.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<String> = unknown_team.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(paths, ["team", "task_type"], "{}", unknown_team.body);

    let created = api_post(&router, "/api/v1/experiments", &writer, &spec).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["experiment_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let runs_path = format!("/api/v1/experiments/{id}/runs");

    let runs = json!({ "runs": [
        { "run_key": "distilbert-1", "name": "DistilBERT", "metrics": {"f1": 0.913},
          "latency_ms": {"p95": 24}, "throughput_rps": 420,
          "hardware": {"gpu_model": "NVIDIA L4"}, "inference": {"kind": "self_hosted"} },
        { "run_key": "hosted-1", "name": "Hosted", "metrics": {"f1": 0.944},
          "inference": {"kind": "api_request", "per_request": "0.002"} }
    ]});
    let stored = api_post(&router, &runs_path, &writer, &runs).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    let retried = api_post(&router, &runs_path, &writer, &runs).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    assert!(retried.json()["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .all(|r| r["duplicate"] == true));

    let changed = json!({ "run_key": "hosted-1", "name": "Hosted", "metrics": {"f1": 0.95},
                          "inference": {"kind": "api_request", "per_request": "0.002"} });
    let conflict = api_post(&router, &runs_path, &writer, &changed).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "{}", conflict.body);

    let unknown_version = json!({ "run_key": "v", "name": "V", "model_version_id": uuid::Uuid::new_v4(),
                                  "inference": {"kind": "api_request", "per_request": "0.1"} });
    let refused = api_post(&router, &runs_path, &writer, &unknown_version).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["errors"][0]["path"], "model_version_id");

    let invalid = json!({ "runs": [
        { "run_key": "a", "name": "A", "inference": {"kind": "api_request", "per_request": "0.1"} },
        { "run_key": "b", "name": "B", "metrics": {"f1": 0.9}, "latency_ms": {"p50": 9, "p95": 3},
          "inference": {"kind": "self_hosted"} }
    ]});
    let refused = api_post(&router, &runs_path, &writer, &invalid).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let paths: Vec<String> = refused.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "runs[1].latency_ms",
            "runs[1].throughput_rps",
            "runs[1].hardware"
        ]
    );
    assert_eq!(
        count(&pool, "experiment_run").await,
        2,
        "nothing of a refused set is stored"
    );

    let forbidden = bearer(&router, &format!("/api/v1/experiments/{id}"), &writer).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let read = bearer(&router, &format!("/api/v1/experiments/{id}"), &reader).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(
        read.json()["recommendation"]
            .as_str()
            .expect("sentence")
            .starts_with("DistilBERT meets F1 ≥ 0.9 at 584.00 USD/month"),
        "{}",
        read.body
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_revoked_token_stops_writing_runs(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let (token_id, secret) = token(&pool, "pipeline", &[Scope::Write]).await;
    let run = json!({ "run_key": "a", "name": "A", "metrics": {"f1": 0.9},
                      "inference": {"kind": "api_request", "per_request": "0.001"} });
    let path = format!("/api/v1/experiments/{id}/runs");
    assert_eq!(
        api_post(&router, &path, &secret, &run).await.status,
        StatusCode::CREATED
    );
    app::tokens::store::revoke(&pool, &Actor::System, token_id)
        .await
        .expect("revoke");
    let mut second = run.clone();
    second["run_key"] = json!("b");
    assert_eq!(
        api_post(&router, &path, &secret, &second).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count(&pool, "experiment_run").await, 1);
    let audit: String = sqlx::query_scalar(
        "select actor_label from audit_log where action = 'experiment.add_runs'",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(audit, "API token pipeline");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_frontier_chart_names_the_runs_for_signed_in_people(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    for run in [DISTILBERT, BERT] {
        assert_eq!(
            add_run(&router, &member, &id, run).await.status,
            StatusCode::OK
        );
    }
    let path = format!("/charts/experiments/{id}/frontier.svg?x=cost&theme=dark");
    let chart = get(&router, &path, Some(&member)).await;
    assert_eq!(chart.status, StatusCode::OK, "{}", chart.body);
    assert!(chart.body.starts_with("<svg"));
    assert!(chart.body.contains("DistilBERT") && chart.body.contains("BERT-base"));
    assert!(chart.body.contains("USD per 1k requests"));
    let latency = get(
        &router,
        &format!("/charts/experiments/{id}/frontier.svg?x=latency"),
        Some(&member),
    )
    .await;
    assert!(latency.body.contains("p95 latency, ms"));
    let anonymous = get(&router, &path, None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER, "sent to sign in");
    assert!(location(&anonymous).starts_with("/login"));
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_run_from_the_form_links_to_a_registry_version(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let model_id: uuid::Uuid =
        sqlx::query_scalar("insert into model (name) values ('ranker') returning model_id")
            .fetch_one(&pool)
            .await
            .expect("model");
    let version: uuid::Uuid = sqlx::query_scalar(
        "insert into model_version (model_id, version) values ($1, 'v1') returning model_version_id",
    )
    .bind(model_id)
    .fetch_one(&pool)
    .await
    .expect("version");
    let version = version.to_string();
    let added = add_run(
        &router,
        &member,
        &id,
        &[
            ("name", "Ranker"),
            ("model_version_id", &version),
            ("metrics", "f1=0.85"),
            ("pricing", "api_request"),
            ("price_per_request", "0.0001"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let view = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    assert_eq!(view.json()["runs"][0]["model_version"], "ranker v1");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_page_data_survives_the_trip_to_the_browser(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let csv = "name,f1,latency_p95_ms,throughput_rps,cpu_instance,hourly_price,price_per_request\n\
               Hosted model,0.95,80,,,,0.0002\n\
               Rules engine,0.80,2,5000,c6i.large,0.09,\n\
               No latency,0.91,,,,,0.001\n";
    let stored = call::<UploadRuns>(
        &router,
        Some(&member),
        &[("experiment_id", &id), ("csv", csv)],
    )
    .await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    let view = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    let runs = view.json()["runs"].clone();
    let cheap = runs
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["name"] == "Rules engine")
        .expect("run")["run_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let dear = runs
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["name"] == "Hosted model")
        .expect("run")["run_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let saved = call::<SaveCascade>(
        &router,
        Some(&member),
        &[
            ("experiment_id", &id),
            ("name", "Rules first"),
            ("cheap_run_id", &cheap),
            ("expensive_run_id", &dear),
            ("share_kept_pct", "100"),
            ("threshold", ""),
            ("kept_quality", ""),
            ("passed_quality", ""),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let view = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    // The browser reads the same JSON back into the same types.
    let read: Result<app::experiments::view::ExperimentView, _> = serde_json::from_str(&view.body);
    assert!(read.is_ok(), "{:?}\n{}", read.err(), view.body);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn two_to_five_runs_compare_side_by_side(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let mut ids = Vec::new();
    for run in [DISTILBERT, BERT] {
        let added = add_run(&router, &member, &id, run).await;
        ids.push(added.json().as_str().expect("id").to_owned());
    }
    let compare = |run_ids: Vec<String>| {
        let (router, viewer, id) = (router.clone(), viewer.clone(), id.clone());
        async move {
            let mut form = vec![("experiment_id".to_owned(), id)];
            form.extend(
                run_ids
                    .into_iter()
                    .enumerate()
                    .map(|(i, run)| (format!("run_ids[{i}]"), run)),
            );
            let pairs: Vec<(&str, &str)> =
                form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            call::<CompareRuns>(&router, Some(&viewer), &pairs).await
        }
    };
    let both = compare(vec![ids[0].clone(), ids[1].clone(), ids[0].clone()]).await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    assert_eq!(both.json()["runs"].as_array().expect("runs").len(), 2);
    let one = compare(vec![ids[0].clone()]).await;
    assert_eq!(one.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", one.body);
}

/// The page keeps an experiment's runs parsed between views (`experiment.runs_version`); every
/// change to them shows on the next view, whichever way it was made: the store, plain SQL, or a
/// new name for the model a run is linked to.
#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_page_viewed_again_shows_every_change_to_its_runs(pool: PgPool) {
    use app::experiments::fields::run_from_fields;
    use app::experiments::{store, ExperimentForm, RunSpec};
    use std::collections::BTreeMap;

    let actor = Actor::System;
    let team_id = app::teams::store::create(&pool, &actor, "Ranking", "")
        .await
        .expect("team");
    let form = ExperimentForm {
        name: "Ranker".into(),
        team_id: team_id.to_string(),
        task_type: "ranking".into(),
        primary_metric: "ndcg".into(),
        constraints: "ndcg >= 0.4".into(),
        ..ExperimentForm::default()
    };
    let experiment = store::create(&pool, &actor, form.parse().expect("form"), false)
        .await
        .expect("experiment");
    let run = |name: &str, ndcg: &str| -> RunSpec {
        let fields: BTreeMap<String, String> = [
            ("name", name),
            ("ndcg", ndcg),
            ("price_per_request", "0.0002"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        run_from_fields(&fields).expect("a valid run")
    };
    let names = |view: &app::experiments::view::ExperimentView| {
        let mut names: Vec<String> = view
            .runs
            .iter()
            .map(|r| format!("{} {}", r.name, r.model_version.clone().unwrap_or_default()))
            .collect();
        names.sort();
        names
    };
    let view = || async {
        store::view(&pool, experiment, 50)
            .await
            .expect("view")
            .expect("the experiment")
    };

    store::add_runs(
        &pool,
        &actor,
        experiment,
        vec![run("GBDT", "0.41"), run("Two tower", "0.44")],
    )
    .await
    .expect("runs");
    assert_eq!(names(&view().await), ["GBDT ", "Two tower "]);
    assert_eq!(
        names(&view().await),
        ["GBDT ", "Two tower "],
        "viewed again"
    );

    store::add_runs(&pool, &actor, experiment, vec![run("Linear", "0.30")])
        .await
        .expect("a third run");
    assert_eq!(names(&view().await), ["GBDT ", "Linear ", "Two tower "]);

    sqlx::query("delete from experiment_run where name = 'Linear'")
        .execute(&pool)
        .await
        .expect("deleted by hand");
    assert_eq!(names(&view().await), ["GBDT ", "Two tower "]);

    // A run linked to a registry version shows the version's name, and a new name for the model.
    let version: uuid::Uuid = sqlx::query_scalar(
        "with m as (insert into model (name, owner_team_id) values ('Ranker', $1) returning model_id)
         insert into model_version (model_id, version) select model_id, 'v2' from m
         returning model_version_id",
    )
    .bind(team_id)
    .fetch_one(&pool)
    .await
    .expect("a registry version");
    sqlx::query("update experiment_run set model_version_id = $1 where name = 'GBDT'")
        .bind(version)
        .execute(&pool)
        .await
        .expect("linked");
    assert_eq!(names(&view().await), ["GBDT Ranker v2", "Two tower "]);
    sqlx::query("update model set name = 'Ranker GBDT'")
        .execute(&pool)
        .await
        .expect("renamed");
    assert_eq!(names(&view().await), ["GBDT Ranker GBDT v2", "Two tower "]);
    sqlx::query("update model_version set version = 'v2.1'")
        .execute(&pool)
        .await
        .expect("version renamed");
    assert_eq!(
        names(&view().await),
        ["GBDT Ranker GBDT v2.1", "Two tower "]
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_run_naming_a_model_of_the_api_price_table_is_priced_from_its_row_and_says_so(
    pool: PgPool,
) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let discount = call::<app::api_prices::SetProviderDiscount>(
        &router,
        Some(&admin),
        &[
            ("provider", "anthropic"),
            ("discount_percent", "10"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(discount.status, StatusCode::OK, "{}", discount.body);
    let id = experiment(&router, &pool, &member).await;
    let hosted = [
        ("name", "Claude Haiku"),
        ("metrics", "f1=0.95"),
        ("latency_p95_ms", "120"),
        ("api_provider", "anthropic"),
        ("api_model", "Claude-Haiku-4-5"),
        ("avg_input_tokens", "3000"),
        ("avg_cached_input_tokens", "1500"),
        ("avg_output_tokens", "250"),
    ];
    let added = add_run(&router, &member, &id, &hosted).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);

    let view = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    let view = view.json();
    let run = &view["runs"][0];
    // The example row: 1.00 input, 0.10 cache read, 5.00 output per 1M; 10% negotiated.
    // Input (1500 x 1.00 + 1500 x 0.10) / 3000 x 0.9 = 0.495 per 1M; output 4.50 per 1M.
    // Per request 3000 x 0.000000495 + 250 x 0.0000045 = 0.00261; per 1,000 requests 2.61.
    let per_thousand: rust_decimal::Decimal = run["per_thousand"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("priced");
    assert_eq!(per_thousand, rust_decimal::Decimal::new(261, 2), "{run}");
    assert!(
        run["basis"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3,000 input tokens (1,500 from the prompt cache) at 0.495 USD and 250 output tokens at 4.50 USD per 1M tokens"),
        "{run}"
    );
    // 2.61 per 1,000 requests of 250 output tokens: 10.44 per 1M output tokens.
    assert_eq!(run["per_million_output_tokens"], "10.44", "{run}");

    // A self-hosted Llama on one L4, always on, against the API: the crossover in requests and in
    // output tokens a month.
    let llama = [
        ("name", "Llama on L4"),
        ("metrics", "f1=0.93"),
        ("latency_p95_ms", "140"),
        ("gpu_model", "NVIDIA L4"),
        ("throughput_rps", "5"),
        ("avg_input_tokens", "3000"),
        ("avg_output_tokens", "250"),
    ];
    let added = add_run(&router, &member, &id, &llama).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let later = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    let later = later.json();
    let crossover = &later["crossovers"][0];
    assert_eq!(crossover["self_hosted"], "Llama on L4", "{later}");
    let volume = crossover["volume"].as_u64().expect("a crossover");
    assert_eq!(
        crossover["output_tokens"].as_u64(),
        Some(volume * 250),
        "{crossover}"
    );
    let page = get(&router, &format!("/experiments/{id}"), Some(&member)).await;
    assert!(
        page.body.contains("10.44 USD / 1M out tokens"),
        "the matrix shows it"
    );
    assert!(
        page.body.contains("output tokens) a month."),
        "the crossover reads in tokens too"
    );

    let basis = run["basis"].as_str().expect("basis");
    assert!(basis.contains("1,500 from the prompt cache"), "{basis}");
    assert!(
        basis.contains(
            "API price table: anthropic claude-haiku-4-5, the row in force since 2026-01-01 (an example row), negotiated −10%, priced on "
        ),
        "{basis}"
    );

    // A model the table does not price is refused on its column; typed prices and a named model
    // together too.
    let mut unknown = hosted.to_vec();
    unknown[0] = ("name", "Unknown");
    unknown[4] = ("api_model", "claude-9");
    let refused = add_run(&router, &member, &id, &unknown).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("api_model")
            && refused
                .body
                .contains("has no price for anthropic claude-9 today"),
        "{}",
        refused.body
    );
    let mut both = hosted.to_vec();
    both[0] = ("name", "Both");
    both.push(("input_price_per_1k_tokens", "0.001"));
    let refused = add_run(&router, &member, &id, &both).await;
    assert!(refused.body.contains("not both"), "{}", refused.body);
}

/// The evaluation report: Markdown with the question, the candidates, the recommendation and the
/// sign-off, for signed-in people.
#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_evaluation_report_is_markdown_with_the_recommendation(pool: PgPool) {
    use app::experiments::fields::run_from_fields;
    use app::experiments::{store, ExperimentForm};
    use std::collections::BTreeMap;

    let router = router(pool.clone());
    let actor = Actor::System;
    let team_id = app::teams::store::create(&pool, &actor, "Ranking", "")
        .await
        .expect("team");
    let form = ExperimentForm {
        name: "Ranker | v2".into(),
        team_id: team_id.to_string(),
        task_type: "ranking".into(),
        primary_metric: "ndcg".into(),
        constraints: "ndcg >= 0.42".into(),
        ..ExperimentForm::default()
    };
    let experiment = store::create(&pool, &actor, form.parse().expect("form"), false)
        .await
        .expect("experiment");
    let run = |name: &str, ndcg: &str, price: &str| {
        let fields: BTreeMap<String, String> = [
            ("name", name),
            ("ndcg", ndcg),
            ("price_per_request", price),
            ("latency_p95_ms", "20"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        run_from_fields(&fields).expect("a valid run")
    };
    store::add_runs(
        &pool,
        &actor,
        experiment,
        vec![
            run("GBDT", "0.41", "0.0001"),
            run("Two tower", "0.44", "0.0003"),
            run("XL", "0.46", "0.002"),
        ],
    )
    .await
    .expect("runs");
    let viewer = signed_in(&pool, Role::Viewer).await;
    let path = format!("/experiments/{experiment}/report.md");
    let report = get(&router, &path, Some(&viewer)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    for shown in [
        "# Evaluation: Ranker | v2",
        "## The candidates",
        "| Two tower (recommended) | 0.44 |",
        "## The decision matrix",
        "## The recommendation",
        "- Served in batch instead: ",
        "## Assumptions",
        "Not yet asked for production",
    ] {
        assert!(report.body.contains(shown), "{shown}: {}", report.body);
    }
    // GBDT misses the SLA and says so in its row.
    assert!(report.body.contains("| GBDT | 0.41 |"), "{}", report.body);
    assert_ne!(get(&router, &path, None).await.status, StatusCode::OK);
    // The same to print: rendered, the frontier inline before the matrix, an A4 stylesheet.
    let path = format!("/experiments/{experiment}/report.html");
    let printed = get(&router, &path, Some(&viewer)).await;
    assert_eq!(printed.status, StatusCode::OK, "{}", printed.body);
    let chart = printed.body.find("<figure").expect("the frontier chart");
    let matrix = printed
        .body
        .find("<h2>The decision matrix</h2>")
        .expect("the matrix");
    assert!(chart < matrix && printed.body[chart..matrix].contains("<svg"));
    for shown in [
        "<h1>Evaluation: Ranker | v2</h1>",
        "<td>Two tower (recommended)</td>",
        "size: A4",
    ] {
        assert!(printed.body.contains(shown), "{shown}: {}", printed.body);
    }
    assert_ne!(get(&router, &path, None).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_run_made_from_another_shows_what_its_technique_saved(pool: PgPool) {
    let router = router(pool.clone());
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &member).await;
    let upload = |csv: String| {
        let router = router.clone();
        let member = member.clone();
        let id = id.clone();
        async move {
            call::<UploadRuns>(
                &router,
                Some(&member),
                &[("experiment_id", &id), ("csv", &csv)],
            )
            .await
        }
    };
    let csv = |derived: &str, technique: &str| {
        format!(
            "name,f1,latency_p95_ms,gpu_model,cpu_instance,throughput_rps,hourly_price,derived_from,technique\n\
             BERT-base,0.931,61,NVIDIA A100-SXM4-80GB,,140,2.50,,\n\
             BERT int8,0.925,30,,c6i.xlarge,120,0.17,{derived},{technique}\n"
        )
    };
    // A technique Pareto does not know, and a parent the experiment does not have, are named by
    // line and column; nothing is stored.
    let bad = upload(csv("bert-base", "int3")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body
            .contains("line 3, column technique: `int3` is not a technique"),
        "{}",
        bad.body
    );
    let orphan = upload(csv("bert-large", "int8")).await;
    assert_eq!(orphan.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        orphan.body.contains(
            "line 3, column derived_from: No run of this experiment has the key bert-large"
        ),
        "{}",
        orphan.body
    );
    let half = upload(csv("bert-base", "")).await;
    assert!(
        half.body.contains("line 3, column technique"),
        "{}",
        half.body
    );
    assert_eq!(count(&pool, "experiment_run").await, 0);

    let stored = upload(csv("bert-base", "INT8 quantization")).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.body);
    // 2.50 USD/h × 730 h = 1,825.00 a month against 0.17 × 730 = 124.10: 1,700.90 saved (93%),
    // 0.6 points of F1 and 31 ms of p95 less.
    let read = call::<LoadExperiment>(&router, Some(&member), &[("experiment_id", &id)]).await;
    let view = read.json();
    let row = &view["compression"][0];
    assert_eq!(row["technique"], "int8", "{view}");
    assert_eq!(
        (row["run"].as_str(), row["parent"].as_str()),
        (Some("BERT int8"), Some("BERT-base"))
    );
    assert_eq!(row["saving_monthly"], "1700.90", "{row}");
    assert!((row["quality_delta"].as_f64().unwrap_or_default() + 0.006).abs() < 1e-9);
    assert_eq!(row["p95_delta_ms"], -31.0);
    // The page's table, the report's section and the frontier's dashed line all say it.
    let page = get(&router, &format!("/experiments/{id}"), Some(&member)).await;
    assert!(
        page.body.contains("What compression bought")
            && page.body.contains("BERT int8 ← BERT-base")
            && page.body.contains("1,700.90 USD (93%)"),
        "{}",
        page.body
    );
    let report = get(
        &router,
        &format!("/experiments/{id}/report.md"),
        Some(&member),
    )
    .await;
    assert!(
        report.body.contains(
            "| int8 quantization | BERT int8 ← BERT-base | 1,700.90 USD | -0.6 | -31 ms |"
        ),
        "{}",
        report.body
    );
    let chart = get(
        &router,
        &format!("/charts/experiments/{id}/frontier.svg"),
        Some(&member),
    )
    .await;
    assert!(chart.body.contains("int8 quantization"), "{}", chart.body);
}

/// An MLflow tracking server's REST API as MLflow 3 answers it, with one experiment of two
/// finished runs, answered over two pages, and nothing registered.
async fn mlflow_stand_in() -> String {
    use axum::routing::{get, post};
    let run = |id: &str, name: &str, f1: f64, gpus: &str| {
        json!({
            "info": { "run_id": id, "run_uuid": id, "run_name": name, "experiment_id": "7",
                      "status": "FINISHED", "start_time": 1764000000000_i64,
                      "lifecycle_stage": "active" },
            "data": {
                "metrics": [
                    { "key": "f1", "value": f1, "timestamp": 1764000300000_i64, "step": 3 },
                    { "key": "latency_p95_ms", "value": 40.0, "timestamp": 1764000300000_i64, "step": 0 },
                    { "key": "throughput_rps", "value": 250, "timestamp": 1764000300000_i64, "step": 0 }
                ],
                "params": [ { "key": "gpu_count", "value": gpus } ],
                "tags": [ { "key": "mlflow.runName", "value": name },
                          { "key": "gpu_model", "value": "NVIDIA L4" } ]
            }
        })
    };
    let first = run("a1b2c3", "distilbert-ft", 0.93, "1");
    let second = run("d4e5f6", "bert-base-ft", 0.95, "2");
    let app = axum::Router::new()
        .route(
            "/api/2.0/mlflow/experiments/get-by-name",
            get(|query: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                if query.get("experiment_name").map(String::as_str) == Some("sentiment-finetune") {
                    (StatusCode::OK, axum::Json(json!({ "experiment": { "experiment_id": "7", "name": "sentiment-finetune" } })))
                } else {
                    (StatusCode::NOT_FOUND, axum::Json(json!({ "error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment" })))
                }
            }),
        )
        .route(
            "/api/2.0/mlflow/runs/search",
            post(move |axum::Json(body): axum::Json<serde_json::Value>| async move {
                assert_eq!(body["filter"], "attributes.status = 'FINISHED'");
                match body["page_token"].as_str() {
                    None => axum::Json(json!({ "runs": [first], "next_page_token": "page-2" })),
                    Some(_) => axum::Json(json!({ "runs": [second] })),
                }
            }),
        )
        .route(
            "/api/2.0/mlflow/model-versions/search",
            get(|| async { axum::Json(json!({})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{address}")
}

/// The page's import, as its form sends it.
async fn import_from(
    router: &axum::Router,
    cookie: &str,
    id: &str,
    tracking_uri: &str,
    mlflow_experiment: &str,
    mapping: &str,
) -> Reply {
    call::<ImportMlflow>(
        router,
        Some(cookie),
        &[
            ("experiment_id", id),
            ("tracking_uri", tracking_uri),
            ("mlflow_experiment", mlflow_experiment),
            ("filter", ""),
            ("mapping", mapping),
        ],
    )
    .await
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_lead_imports_runs_from_mlflow_under_the_address_rules(pool: PgPool) {
    use app::experiments::mlflow::DEFAULT_MAPPING;
    let mlflow = mlflow_stand_in().await;
    let study = "sentiment-finetune";
    // Under the default rules, an address inside the network is refused before any request.
    let router = router(pool.clone());
    let lead = signed_in(&pool, Role::Lead).await;
    let member = signed_in(&pool, Role::Member).await;
    let id = experiment(&router, &pool, &lead).await;
    let refused = import_from(&router, &lead, &id, &mlflow, study, DEFAULT_MAPPING).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    refused.shows(&["tracking_uri", "is a loopback or private address"]);
    // A member may add runs but not name a server for Pareto to call.
    let forbidden = import_from(&router, &member, &id, &mlflow, study, DEFAULT_MAPPING).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    // Where the admin allows private addresses, the runs arrive, page after page.
    let inside = router_configured(pool.clone(), |config| config.webhook_allow_private = true);
    let bad_mapping = import_from(
        &inside,
        &lead,
        &id,
        &mlflow,
        study,
        "name = tags.mlflow.runName\nspeed = metrics.rps",
    )
    .await;
    assert_eq!(bad_mapping.status, StatusCode::UNPROCESSABLE_ENTITY);
    bad_mapping.shows(&["mapping", "line 2: `speed` is not a run field"]);
    for answer in [
        "2 finished runs of MLflow's sentiment-finetune: 2 added, 0 already imported",
        "2 finished runs of MLflow's sentiment-finetune: 0 added, 2 already imported",
    ] {
        let done = import_from(&inside, &lead, &id, &mlflow, study, DEFAULT_MAPPING).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.json(), answer);
    }
    let view = call::<LoadExperiment>(&inside, Some(&lead), &[("experiment_id", &id)])
        .await
        .json();
    let runs = view["runs"].as_array().expect("runs");
    let keys: Vec<&str> = runs.iter().filter_map(|r| r["run_key"].as_str()).collect();
    assert_eq!(keys.len(), 2);
    assert!(
        keys.contains(&"mlflow-a1b2c3") && keys.contains(&"mlflow-d4e5f6"),
        "{keys:?}"
    );
    let bert = runs
        .iter()
        .find(|r| r["run_key"] == "mlflow-d4e5f6")
        .expect("bert");
    assert_eq!(bert["name"], "bert-base-ft");
    assert_eq!(bert["hardware"], "2 × NVIDIA L4");
    assert_eq!(bert["metrics"]["f1"], 0.95);

    // An experiment MLflow does not have is named on its own field.
    let missing = import_from(&inside, &lead, &id, &mlflow, "no-such", "").await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    missing.shows(&["mlflow_experiment", "has no experiment named no-such"]);
}
