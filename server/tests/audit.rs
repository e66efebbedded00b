//! The audit log page's search: leads and admins only, filtered by actor, entity and time.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::*;
use app::audit::SearchAuditLog;
use app::auth::Role;
use app::catalog::CreateModel;

fn query<'a>(
    actor: &'a str,
    entity: &'a str,
    from: &'a str,
    to: &'a str,
) -> [(&'a str, &'a str); 4] {
    [
        ("query[actor]", actor),
        ("query[entity]", entity),
        ("query[from]", from),
        ("query[to]", to),
    ]
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn leads_search_the_audit_log_and_members_cannot(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    home_team(&pool).await;
    call::<CreateModel>(
        &router,
        Some(&member),
        &[
            ("name", "fraud-lgbm"),
            ("task", "classification"),
            ("team_id", HOME_TEAM),
            ("description", ""),
        ],
    )
    .await;
    for caller in [&viewer, &member] {
        let refused = call::<SearchAuditLog>(&router, Some(caller), &query("", "", "", "")).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
    let all = call::<SearchAuditLog>(&router, Some(&lead), &query("", "", "", "")).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let all = all.json();
    assert!(all["actors"]
        .as_array()
        .expect("actors")
        .contains(&"member@example.com".into()));
    assert!(all["entities"]
        .as_array()
        .expect("entities")
        .contains(&"model".into()));

    let models = call::<SearchAuditLog>(
        &router,
        Some(&lead),
        &query("member@example.com", "model", "2020-01-01", "2100-12-31"),
    )
    .await
    .json();
    let events = models["events"].as_array().expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["summary"],
        "added model fraud-lgbm (classification)"
    );
    let before = call::<SearchAuditLog>(
        &router,
        Some(&lead),
        &query("", "model", "2020-01-01", "2020-01-02"),
    )
    .await
    .json();
    assert_eq!(before["events"].as_array().map(Vec::len), Some(0));

    let bad = call::<SearchAuditLog>(&router, Some(&lead), &query("", "", "yesterday", "")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("yyyy-mm-dd"), "{}", bad.body);
}
