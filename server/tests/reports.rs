//! Quarterly TCO through the real router: who may enter what, and exports that agree with the page.

use axum::http::{header, StatusCode};
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::reports::{LoadTco, Quarter, SaveEngineering, SaveValue};
use app::tokens::Scope;

async fn a_team_and_model(pool: &PgPool) -> (String, String) {
    let team: uuid::Uuid =
        sqlx::query_scalar("insert into team (name) values ('Fraud Detection') returning team_id")
            .fetch_one(pool)
            .await
            .expect("team");
    let model: uuid::Uuid = sqlx::query_scalar(
        "insert into model (name, owner_team_id) values ('fraud-lgbm', $1) returning model_id",
    )
    .bind(team)
    .fetch_one(pool)
    .await
    .expect("model");
    (team.to_string(), model.to_string())
}

fn this_quarter() -> String {
    Quarter::containing(app::clock::now()).to_string()
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn leads_enter_engineering_time_and_value_and_others_cannot(pool: PgPool) {
    let router = router(pool.clone());
    let (team, model) = a_team_and_model(&pool).await;
    let quarter = this_quarter();
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let hours = [
        ("quarter", quarter.as_str()),
        ("team_id", team.as_str()),
        ("hours", "120"),
        ("hourly_rate", "95.50"),
        ("currency", "usd"),
        ("note", "feature store work"),
    ];
    for caller in [&viewer, &member] {
        assert_eq!(
            call::<SaveEngineering>(&router, Some(caller), &hours)
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        call_from::<SaveEngineering>(&router, Some(&lead), &hours, "cross-site")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = call::<SaveEngineering>(
        &router,
        Some(&lead),
        &[
            ("quarter", "2026-Q9"),
            ("team_id", team.as_str()),
            ("hours", "lots"),
            ("hourly_rate", "-1"),
            ("currency", "dollars"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("\"quarter\""), "{}", bad.body);
    let bad = call::<SaveEngineering>(
        &router,
        Some(&lead),
        &[
            ("quarter", quarter.as_str()),
            ("team_id", team.as_str()),
            ("hours", "lots"),
            ("hourly_rate", "-1"),
            ("currency", "dollars"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["\"hours\"", "\"hourly_rate\"", "\"currency\""] {
        assert!(bad.body.contains(field), "{field} in {}", bad.body);
    }
    assert_eq!(
        count(&pool, "tco_engineering").await,
        0,
        "nothing half-written"
    );

    let saved = call::<SaveEngineering>(&router, Some(&lead), &hours).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let value = [
        ("quarter", quarter.as_str()),
        ("model_id", model.as_str()),
        ("amount", "25,000"),
        ("currency", "USD"),
        ("note", "chargebacks avoided"),
    ];
    assert_eq!(
        call::<SaveValue>(&router, Some(&member), &value)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let saved = call::<SaveValue>(&router, Some(&lead), &value).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let page = call::<LoadTco>(&router, Some(&viewer), &[("quarter", "")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let tco = &page.json()["tco"];
    assert_eq!(tco["teams"][0]["team"], "Fraud Detection");
    let line = &tco["teams"][0]["lines"][0];
    assert_eq!(
        line["name"], "Team-wide",
        "no model has compute, so engineering stays with the team"
    );
    assert_eq!(line["parts"]["engineering"], "11460.00");
    let audit: i64 = sqlx::query_scalar("select count(*) from audit_log where action like 'tco.%'")
        .fetch_one(&pool)
        .await
        .expect("audit");
    assert_eq!(audit, 2);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn every_export_carries_the_same_total(pool: PgPool) {
    let router = router(pool.clone());
    let (team, _) = a_team_and_model(&pool).await;
    let quarter = this_quarter();
    let lead = signed_in(&pool, Role::Lead).await;
    let saved = call::<SaveEngineering>(
        &router,
        Some(&lead),
        &[
            ("quarter", quarter.as_str()),
            ("team_id", team.as_str()),
            ("hours", "10"),
            ("hourly_rate", "100"),
            ("currency", "USD"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let csv_path = format!("/reports/tco.csv?quarter={quarter}");
    assert_eq!(
        get(&router, &csv_path, None).await.status,
        StatusCode::SEE_OTHER
    );
    let viewer = signed_in(&pool, Role::Viewer).await;
    let csv = get(&router, &csv_path, Some(&viewer)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(csv.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .is_ok_and(|d| d.contains(&format!("pareto-tco-{quarter}.csv"))));
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let total_column = reader
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "total")
        .expect("total column");
    let csv_total: Decimal = reader
        .records()
        .map(|r| {
            r.expect("row")[total_column]
                .parse::<Decimal>()
                .expect("amount")
        })
        .sum();
    assert_eq!(csv_total, Decimal::from(1000));

    let (_, ingest) = token(&pool, "agent", &[Scope::Ingest]).await;
    let api = format!("/api/v1/reports/tco?quarter={quarter}");
    assert_eq!(
        bearer(&router, &api, &ingest).await.status,
        StatusCode::FORBIDDEN
    );
    let (_, read) = token(&pool, "finance", &[Scope::Read]).await;
    let json = bearer(&router, &api, &read).await;
    assert_eq!(json.status, StatusCode::OK, "{}", json.body);
    assert_eq!(json.json()["total"], "1000.00");
    let xlsx = bearer(&router, &format!("{api}&format=xlsx"), &read).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers[header::CONTENT_TYPE]
        .to_str()
        .is_ok_and(|t| t.contains("spreadsheetml")));
    let bad = bearer(&router, "/api/v1/reports/tco?quarter=someday", &read).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("write it as 2026-Q3"), "{}", bad.body);
    let html = get(
        &router,
        &format!("/reports/tco.html?quarter={quarter}"),
        Some(&viewer),
    )
    .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.body.contains("1,000.00 USD"),
        "the report shows the same total"
    );
    assert!(html.body.contains("@media print"));
}
