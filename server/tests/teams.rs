//! Teams draw the line for writes: members and leads change only what their own teams own, admins
//! change anything, and a token bound to a team acts only for it. Every role in and out of the
//! owning team tries every write; a refused one answers 403 and writes nothing.

use axum::http::{header, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::common::*;
use app::auth::Role;
use app::tokens::Scope;

/// A signed-in person of `role`, in `team` when given: their id and session cookie.
async fn person(pool: &PgPool, email: &str, role: Role, team: Option<Uuid>) -> (Uuid, String) {
    let user_id = create_user(pool, email, role).await;
    if let Some(team) = team {
        sqlx::query("insert into team_member (team_id, user_id) values ($1, $2)")
            .bind(team)
            .bind(user_id)
            .execute(pool)
            .await
            .expect("member");
    }
    let session = app::auth::session::create(
        pool,
        &app::state::AuthSettings::default(),
        user_id,
        "test",
        "127.0.0.1",
    )
    .await
    .expect("session");
    (user_id, format!("pareto_session={session}"))
}

fn id_of(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json().as_str().expect("an id").to_owned()
}

async fn audit_entries(pool: &PgPool) -> i64 {
    count(pool, "audit_log").await
}

fn experiment_form<'a>(name: &'a str, team: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("team_id", team),
        ("task_type", "classification"),
        ("dataset", "card transactions"),
        ("primary_metric", "F1"),
        ("direction", ""),
        ("constraints", "f1 >= 0.80"),
        ("monthly_volume", "1,000,000"),
        ("mode", "real_time"),
        ("currency", ""),
    ]
}

fn model_form<'a>(name: &'a str, team: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("task", "classification"),
        ("team_id", team),
        ("description", ""),
    ]
}

/// What one caller's attempts are made on: all of it owned by the first team, made by an admin.
struct Owned {
    experiment: String,
    model: String,
    model_name: String,
    version: String,
    linked_deployment: String,
    free_deployment: String,
    spare_model: String,
    budget: String,
    alert: String,
    rule: String,
}

async fn owned(router: &axum::Router, pool: &PgPool, admin: &str, team: &str, n: usize) -> Owned {
    let experiment = id_of(
        &call::<app::experiments::CreateExperiment>(
            router,
            Some(admin),
            &experiment_form(&format!("Fraud scoring {n}"), team),
        )
        .await,
    );
    let model_name = format!("fraud-gbm-{n}");
    let model = id_of(
        &call::<app::catalog::CreateModel>(router, Some(admin), &model_form(&model_name, team))
            .await,
    );
    let version = id_of(
        &call::<app::catalog::AddModelVersion>(
            router,
            Some(admin),
            &[
                ("model_id", &model),
                ("version", "v1"),
                ("framework", ""),
                ("parameter_count", ""),
                ("artifact_uri", ""),
            ],
        )
        .await,
    );
    let spare_model = id_of(
        &call::<app::catalog::CreateModel>(
            router,
            Some(admin),
            &model_form(&format!("fraud-spare-{n}"), team),
        )
        .await,
    );
    let deployments: Vec<Uuid> = sqlx::query_scalar(
        "insert into deployment (key) values ($1), ($2) returning deployment_id",
    )
    .bind(format!("fraud-prod-{n}"))
    .bind(format!("fraud-new-{n}"))
    .fetch_all(pool)
    .await
    .expect("deployments");
    let linked_deployment = deployments[0].to_string();
    let linked = call::<app::fleet::LinkDeployment>(
        router,
        Some(admin),
        &[
            ("deployment_id", &linked_deployment),
            ("model_name", &model_name),
            ("version", "v1"),
            ("team_id", team),
        ],
    )
    .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    let budget = id_of(
        &call::<app::alerts::CreateBudget>(
            router,
            Some(admin),
            &[
                ("target", &format!("model:{model}")),
                ("monthly_amount", "1000"),
                ("currency", "usd"),
                ("thresholds", "80"),
            ],
        )
        .await,
    );
    let alert: Uuid = sqlx::query_scalar(
        "insert into alert (kind, budget_id, period_start, threshold, message)
         values ('budget_threshold', $1::uuid, date '2026-12-01', 80, 'past 80%') returning alert_id",
    )
    .bind(&budget)
    .fetch_one(pool)
    .await
    .expect("alert");
    let rule_name = format!("Fraud GPUs {n}");
    let saved = call_rule::<app::bills::SaveRule>(router, admin, &rule_name, team).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let rule: Uuid =
        sqlx::query_scalar("select allocation_rule_id from allocation_rule where name = $1")
            .bind(&rule_name)
            .fetch_one(pool)
            .await
            .expect("rule");
    Owned {
        experiment,
        model,
        model_name,
        version,
        linked_deployment,
        free_deployment: deployments[1].to_string(),
        spare_model,
        budget,
        alert: alert.to_string(),
        rule: rule.to_string(),
    }
}

async fn call_rule<S: leptos::server_fn::ServerFn>(
    router: &axum::Router,
    cookie: &str,
    name: &str,
    team: &str,
) -> Reply {
    let fields = [
        ("rule_id", ""),
        ("name", name),
        ("kind", "tag"),
        ("key", "team"),
        ("pattern", "fraud*"),
        ("team_id", team),
        ("model_id", ""),
        ("deployment_id", ""),
        ("split_deployments", ""),
        ("split", "equal"),
    ];
    let form: Vec<(String, &str)> = fields
        .iter()
        .map(|(k, v)| (format!("input[{k}]"), *v))
        .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    call::<S>(router, Some(cookie), &pairs).await
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn each_role_changes_only_what_its_own_teams_own(pool: PgPool) {
    let router = router(pool.clone());
    let fraud = new_team(&pool, "Fraud Detection").await;
    let search = new_team(&pool, "Search & Ranking").await;
    let (_, admin) = person(&pool, "admin@example.com", Role::Admin, None).await;
    // (who, role, in the owning team)
    let callers = [
        (
            "viewer in Fraud",
            person(&pool, "v@example.com", Role::Viewer, Some(fraud))
                .await
                .1,
            Role::Viewer,
            true,
        ),
        (
            "member in Fraud",
            person(&pool, "m@example.com", Role::Member, Some(fraud))
                .await
                .1,
            Role::Member,
            true,
        ),
        (
            "member in Search",
            person(&pool, "ms@example.com", Role::Member, Some(search))
                .await
                .1,
            Role::Member,
            false,
        ),
        (
            "lead in Fraud",
            person(&pool, "l@example.com", Role::Lead, Some(fraud))
                .await
                .1,
            Role::Lead,
            true,
        ),
        (
            "lead in Search",
            person(&pool, "ls@example.com", Role::Lead, Some(search))
                .await
                .1,
            Role::Lead,
            false,
        ),
        ("admin in no team", admin.clone(), Role::Admin, false),
    ];
    let team = fraud.to_string();
    let mut refusals = 0;
    for (n, (who, cookie, role, in_team)) in callers.iter().enumerate() {
        let own = owned(&router, &pool, &admin, &team, n).await;
        let session = cookie.as_str();
        let cookie = Some(session);
        let run = [
            ("experiment_id", own.experiment.as_str()),
            ("fields[name]", "GBM"),
            ("fields[metrics]", "f1=0.91"),
            ("fields[latency_p95_ms]", "12"),
            ("fields[throughput_rps]", "900"),
            ("fields[gpu_model]", "NVIDIA L4"),
            ("fields[pricing]", "self_hosted"),
        ];
        let experiment_name = format!("Chargebacks {n}");
        let card = [
            ("model_version_id", own.version.as_str()),
            ("license", "apache-2.0"),
            ("language", "en"),
            ("datasets", ""),
            ("base_model", ""),
            ("pipeline_tag", ""),
            ("tags", ""),
            ("body", "# Fraud GBM\n\nScores card payments."),
            ("note", ""),
        ];
        let new_person = create_user(&pool, &format!("new-{n}@example.com"), Role::Member)
            .await
            .to_string();
        let rule_name = format!("Fraud storage {n}");
        let quarter = app::reports::Quarter::containing(app::clock::now()).to_string();
        let mut check = |action: &str, needs: Role, reply: Reply, before: i64, after: i64| {
            let allowed = *role >= needs && (*in_team || *role == Role::Admin);
            let expected = if allowed {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(reply.status, expected, "{who} / {action}: {}", reply.body);
            if !allowed {
                assert_eq!(
                    before, after,
                    "{who} / {action}: a refused write audits nothing"
                );
            }
            if !allowed && *role >= needs {
                refusals += 1;
                assert!(
                    reply.body.contains("Fraud Detection"),
                    "{who} / {action}: the refusal names the owning team: {}",
                    reply.body
                );
            }
        };
        macro_rules! attempt {
            ($action:expr, $needs:expr, $call:expr) => {{
                let before = audit_entries(&pool).await;
                let reply = $call;
                let after = audit_entries(&pool).await;
                check($action, $needs, reply, before, after);
            }};
        }
        attempt!(
            "create an experiment for Fraud",
            Role::Member,
            call::<app::experiments::CreateExperiment>(
                &router,
                cookie,
                &experiment_form(&experiment_name, &team)
            )
            .await
        );
        attempt!(
            "add a run to Fraud's experiment",
            Role::Member,
            call::<app::experiments::AddRun>(&router, cookie, &run).await
        );
        attempt!(
            "decide Fraud's experiment",
            Role::Member,
            call::<app::experiments::SetExperimentStatus>(
                &router,
                cookie,
                &[("experiment_id", &own.experiment), ("status", "decided")],
            )
            .await
        );
        attempt!(
            "create a model for Fraud",
            Role::Member,
            call::<app::catalog::CreateModel>(
                &router,
                cookie,
                &model_form(&format!("fraud-new-model-{n}"), &team)
            )
            .await
        );
        attempt!(
            "edit Fraud's model",
            Role::Member,
            call::<app::catalog::UpdateModel>(
                &router,
                cookie,
                &[
                    ("model_id", own.model.as_str()),
                    ("name", own.model_name.as_str()),
                    ("task", "classification"),
                    ("team_id", team.as_str()),
                    ("description", "gradient-boosted trees"),
                ],
            )
            .await
        );
        attempt!(
            "add a version to Fraud's model",
            Role::Member,
            call::<app::catalog::AddModelVersion>(
                &router,
                cookie,
                &[
                    ("model_id", own.model.as_str()),
                    ("version", "v2"),
                    ("framework", ""),
                    ("parameter_count", ""),
                    ("artifact_uri", ""),
                ],
            )
            .await
        );
        attempt!(
            "edit the card of Fraud's version",
            Role::Member,
            call::<app::cards::SaveCard>(&router, cookie, &card).await
        );
        attempt!(
            "link a new deployment to Fraud's model",
            Role::Member,
            call::<app::fleet::LinkDeployment>(
                &router,
                cookie,
                &[
                    ("deployment_id", own.free_deployment.as_str()),
                    ("model_name", own.model_name.as_str()),
                    ("version", "v1"),
                    ("team_id", team.as_str()),
                ],
            )
            .await
        );
        attempt!(
            "ask to promote Fraud's version",
            Role::Member,
            call::<app::reviews::RequestPromotion>(
                &router,
                cookie,
                &[("model_version_id", own.version.as_str()), ("comment", "")],
            )
            .await
        );
        attempt!(
            "acknowledge Fraud's alert",
            Role::Member,
            call::<app::alerts::AcknowledgeAlert>(&router, cookie, &[("alert_id", &own.alert)])
                .await
        );
        attempt!(
            "set a budget for Fraud's model",
            Role::Lead,
            call::<app::alerts::CreateBudget>(
                &router,
                cookie,
                &[
                    ("target", &format!("model:{}", own.spare_model)),
                    ("monthly_amount", "500"),
                    ("currency", "usd"),
                    ("thresholds", "90"),
                ],
            )
            .await
        );
        attempt!(
            "delete Fraud's budget",
            Role::Lead,
            call::<app::alerts::DeleteBudget>(&router, cookie, &[("budget_id", &own.budget)]).await
        );
        attempt!(
            "override the tier of Fraud's model",
            Role::Lead,
            call::<app::catalog::SetTierOverride>(
                &router,
                cookie,
                &[
                    ("model_id", own.model.as_str()),
                    ("tier", "2"),
                    ("reason", "shared GPUs")
                ],
            )
            .await
        );
        attempt!(
            "raise a drift threshold of Fraud's deployment",
            Role::Lead,
            call::<app::drift::SetDriftThreshold>(
                &router,
                cookie,
                &[
                    ("deployment_id", own.linked_deployment.as_str()),
                    ("metric", "psi"),
                    ("warn", "0.3"),
                    ("alert", "0.5"),
                ],
            )
            .await
        );
        attempt!(
            "enter Fraud's engineering time",
            Role::Lead,
            call::<app::reports::SaveEngineering>(
                &router,
                cookie,
                &[
                    ("quarter", quarter.as_str()),
                    ("team_id", team.as_str()),
                    ("hours", "40"),
                    ("hourly_rate", "90"),
                    ("currency", "usd"),
                    ("note", ""),
                ],
            )
            .await
        );
        attempt!(
            "add a person to Fraud",
            Role::Lead,
            call::<app::teams::AddTeamMember>(
                &router,
                cookie,
                &[("team_id", team.as_str()), ("user_id", new_person.as_str())],
            )
            .await
        );
        attempt!(
            "save an allocation rule for Fraud",
            Role::Lead,
            call_rule::<app::bills::SaveRule>(&router, session, &rule_name, &team).await
        );
        attempt!(
            "delete Fraud's allocation rule",
            Role::Lead,
            call::<app::bills::DeleteRule>(&router, cookie, &[("rule_id", &own.rule)]).await
        );
    }
    // The member of the other team may make 10 of these writes by role, its lead all 18: each
    // was refused for the team alone.
    assert_eq!(refusals, 10 + 18);
}

fn sample(deployment: &str) -> Value {
    json!({
        "ts": (app::clock::now() - chrono::TimeDelta::minutes(5)).to_rfc3339(),
        "deployment": deployment, "gpu_uuid": "GPU-1", "gpu_index": 0, "gpu_model": "NVIDIA L4",
        "interval_s": 10, "utilization_pct": 50, "memory_used_mib": 1000, "power_watts": 70,
        "requests": 100
    })
}

fn telemetry(samples: Vec<Value>) -> Value {
    json!({ "batch_id": Uuid::new_v4(), "host": "gpu-node-1", "samples": samples })
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_token_bound_to_a_team_acts_only_for_it(pool: PgPool) {
    let router = router(pool.clone());
    let fraud = new_team(&pool, "Fraud Detection").await;
    let search = new_team(&pool, "Search & Ranking").await;
    let (_, admin) = person(&pool, "admin@example.com", Role::Admin, None).await;
    for (team, name) in [(search, "search-ranker"), (fraud, "fraud-gbm")] {
        let team = team.to_string();
        id_of(
            &call::<app::catalog::CreateModel>(&router, Some(&admin), &model_form(name, &team))
                .await,
        );
        let deployment: Uuid =
            sqlx::query_scalar("insert into deployment (key) values ($1) returning deployment_id")
                .bind(format!("{name}-prod"))
                .fetch_one(&pool)
                .await
                .expect("deployment");
        let linked = call::<app::fleet::LinkDeployment>(
            &router,
            Some(&admin),
            &[
                ("deployment_id", &deployment.to_string()),
                ("model_name", name),
                ("version", "v1"),
                ("team_id", &team),
            ],
        )
        .await;
        assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    }
    let search_version: Uuid = sqlx::query_scalar(
        "select model_version_id from deployment where key = 'search-ranker-prod'",
    )
    .fetch_one(&pool)
    .await
    .expect("version");
    let search_experiment = id_of(
        &call::<app::experiments::CreateExperiment>(
            &router,
            Some(&admin),
            &experiment_form("Query ranking", &search.to_string()),
        )
        .await,
    );
    let bound = app::tokens::store::create(
        &pool,
        &app::audit::Actor::System,
        "fraud-pipeline",
        &[Scope::Write, Scope::Ingest],
        Some(fraud),
    )
    .await
    .expect("token")
    .secret;
    let (_, unbound) = token(&pool, "gpu-fleet", &[Scope::Ingest]).await;

    let spec = |team: &str| {
        json!({ "name": format!("Chargebacks for {team}"), "team": team,
                "task_type": "classification", "primary_metric": "f1" })
    };
    let experiments = count(&pool, "experiment").await;
    let refused = api_post(
        &router,
        "/api/v1/experiments",
        &bound,
        &spec("Search & Ranking"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        refused.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let detail = refused.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("acts only for Fraud Detection") && detail.contains("Search & Ranking"),
        "{detail}"
    );
    assert_eq!(count(&pool, "experiment").await, experiments);
    let created = api_post(
        &router,
        "/api/v1/experiments",
        &bound,
        &spec("Fraud Detection"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let fraud_experiment = created.json()["experiment_id"]
        .as_str()
        .expect("id")
        .to_owned();

    let run = json!({ "run_key": "gbm-1", "name": "GBM", "metrics": {"f1": 0.9},
                      "inference": {"kind": "api_request", "per_request": "0.001"} });
    let refused = api_post(
        &router,
        &format!("/api/v1/experiments/{search_experiment}/runs"),
        &bound,
        &run,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(count(&pool, "experiment_run").await, 0);
    let added = api_post(
        &router,
        &format!("/api/v1/experiments/{fraud_experiment}/runs"),
        &bound,
        &run,
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);

    let promotion = api_post(
        &router,
        &format!("/api/v1/model-versions/{search_version}/promotion"),
        &bound,
        &json!({}),
    )
    .await;
    assert_eq!(
        promotion.status,
        StatusCode::FORBIDDEN,
        "{}",
        promotion.body
    );
    let status: String =
        sqlx::query_scalar("select status::text from model_version where model_version_id = $1")
            .bind(search_version)
            .fetch_one(&pool)
            .await
            .expect("status");
    assert_eq!(status, "draft");

    // Telemetry: the other team's deployment refuses the whole batch, and the agent keeps it.
    let mixed = telemetry(vec![sample("fraud-gbm-prod"), sample("search-ranker-prod")]);
    let refused = api_post(&router, "/api/v1/telemetry", &bound, &mixed).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let detail = refused.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("search-ranker-prod (Search & Ranking)")
            && detail.contains("nothing was stored"),
        "{detail}"
    );
    assert_eq!(count(&pool, "telemetry_batch").await, 0);
    let own = telemetry(vec![sample("fraud-gbm-prod"), sample("fraud-canary")]);
    let accepted = api_post(&router, "/api/v1/telemetry", &bound, &own).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let fleet = api_post(&router, "/api/v1/telemetry", &unbound, &mixed).await;
    assert_eq!(
        fleet.status,
        StatusCode::ACCEPTED,
        "a token bound to no team posts for every deployment: {}",
        fleet.body
    );
}
