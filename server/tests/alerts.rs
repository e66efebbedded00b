//! Budgets, alerts and webhooks through the real router: every role on every action.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::*;
use app::alerts::{
    AcknowledgeAlert, CreateBudget, CreateWebhook, DeleteBudget, ListAlerts, ListBudgets,
    ListWebhooks, LoadNavCounts,
};
use app::auth::Role;

async fn a_team(pool: &PgPool) -> String {
    let id: uuid::Uuid =
        sqlx::query_scalar("insert into team (name) values ('Fraud Detection') returning team_id")
            .fetch_one(pool)
            .await
            .expect("team");
    join_every_team(pool).await;
    id.to_string()
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn leads_set_budgets_and_everyone_sees_them(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let team = format!("team:{}", a_team(&pool).await);
    let form = [
        ("target", team.as_str()),
        ("monthly_amount", "12,000"),
        ("currency", "usd"),
        ("thresholds", "50, 90"),
    ];
    for caller in [&viewer, &member] {
        assert_eq!(
            call::<CreateBudget>(&router, Some(caller), &form)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    let created = call::<CreateBudget>(&router, Some(&lead), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_str().expect("id").to_owned();
    let twice = call::<CreateBudget>(&router, Some(&lead), &form).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        twice.body.contains("already has a budget"),
        "{}",
        twice.body
    );
    let bad = call::<CreateBudget>(
        &router,
        Some(&lead),
        &[
            ("target", "tier:9"),
            ("monthly_amount", "-5"),
            ("currency", "USD"),
            ("thresholds", ""),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("\"target\"") && bad.body.contains("\"monthly_amount\""),
        "{}",
        bad.body
    );

    let listed = call::<ListBudgets>(&router, Some(&viewer), &[]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed[0]["target"], "Fraud Detection");
    assert_eq!(listed[0]["thresholds"], serde_json::json!([50, 90]));
    assert_eq!(listed[0]["spent"], "0");

    assert_eq!(
        call::<DeleteBudget>(&router, Some(&member), &[("budget_id", &id)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call::<DeleteBudget>(&router, Some(&lead), &[("budget_id", &id)])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(count(&pool, "budget").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn members_acknowledge_alerts_and_only_admins_add_webhooks(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let team = a_team(&pool).await;
    let budget: uuid::Uuid = sqlx::query_scalar(
        "insert into budget (scope, team_id, monthly_amount, currency) values ('team', $1::uuid, 100, 'USD') returning budget_id",
    )
    .bind(&team)
    .fetch_one(&pool)
    .await
    .expect("budget");
    let alert: uuid::Uuid = sqlx::query_scalar(
        "insert into alert (kind, budget_id, period_start, threshold, message)
         values ('budget_threshold', $1, current_date, 80, 'Fraud Detection is past 80%.') returning alert_id",
    )
    .bind(budget)
    .fetch_one(&pool)
    .await
    .expect("alert");

    let counts = call::<LoadNavCounts>(&router, Some(&viewer), &[])
        .await
        .json();
    assert_eq!(counts["open_alerts"], 1);
    // A model's page lists the alerts of its own budget, not the team's.
    let model: uuid::Uuid =
        sqlx::query_scalar("insert into model (name) values ('llm-chat') returning model_id")
            .fetch_one(&pool)
            .await
            .expect("model");
    let model_budget: uuid::Uuid = sqlx::query_scalar(
        "insert into budget (scope, model_id, monthly_amount, currency) values ('model', $1, 100, 'USD') returning budget_id",
    )
    .bind(model)
    .fetch_one(&pool)
    .await
    .expect("model budget");
    sqlx::query(
        "insert into alert (kind, budget_id, period_start, threshold, message)
         values ('budget_threshold', $1, current_date, 50, 'llm-chat is past 50%.')",
    )
    .bind(model_budget)
    .execute(&pool)
    .await
    .expect("model alert");
    let detail = call::<app::catalog::LoadModel>(
        &router,
        Some(&viewer),
        &[("model_id", &model.to_string())],
    )
    .await
    .json();
    let messages: Vec<&str> = detail["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|a| a["message"].as_str())
        .collect();
    assert_eq!(messages, ["llm-chat is past 50%."]);
    sqlx::query("delete from alert where budget_id = $1")
        .bind(model_budget)
        .execute(&pool)
        .await
        .expect("cleanup");
    let alerts = call::<ListAlerts>(&router, Some(&viewer), &[]).await.json();
    assert_eq!(alerts[0]["message"], "Fraud Detection is past 80%.");
    let id = alert.to_string();
    assert_eq!(
        call::<AcknowledgeAlert>(&router, Some(&viewer), &[("alert_id", &id)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let acknowledged = call::<AcknowledgeAlert>(&router, Some(&member), &[("alert_id", &id)]).await;
    assert_eq!(acknowledged.status, StatusCode::OK, "{}", acknowledged.body);
    let again = call::<AcknowledgeAlert>(&router, Some(&member), &[("alert_id", &id)]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let counts = call::<LoadNavCounts>(&router, Some(&viewer), &[])
        .await
        .json();
    assert_eq!(counts["open_alerts"], 0);

    let hook = [
        ("name", "#ml-costs"),
        ("url", "https://hooks.example.com/T000/secret"),
    ];
    assert_eq!(
        call::<CreateWebhook>(&router, Some(&lead), &hook)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = call::<CreateWebhook>(
        &router,
        Some(&admin),
        &[("name", "x"), ("url", "ftp://nope")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The cloud's metadata service is never a webhook.
    let metadata = call::<CreateWebhook>(
        &router,
        Some(&admin),
        &[
            ("name", "x"),
            ("url", "http://169.254.169.254/latest/meta-data/"),
        ],
    )
    .await;
    assert_eq!(metadata.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(metadata.body.contains("link-local"), "{}", metadata.body);
    assert_eq!(
        call::<CreateWebhook>(&router, Some(&admin), &hook)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call::<ListWebhooks>(&router, Some(&viewer), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let listed = call::<ListWebhooks>(&router, Some(&lead), &[]).await.json();
    assert_eq!(
        listed[0]["shown_url"], "https://hooks.example.com/…",
        "the secret path is hidden"
    );
    assert!(!listed.to_string().contains("secret"));
}
