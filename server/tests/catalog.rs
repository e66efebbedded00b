//! The model catalog and its tiers through the real router: who may do what, and what is refused.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::catalog::{
    AddModelVersion, CreateModel, CreateTierRule, ListCatalog, LoadModel, MoveTierRule,
    SetTierOverride, SetVersionStatus,
};

async fn audited(pool: &PgPool, entity_type: &str) -> Vec<String> {
    sqlx::query_scalar("select action from audit_log where entity_type = $1 order by audit_log_id")
        .bind(entity_type)
        .fetch_all(pool)
        .await
        .expect("audit")
}

fn model_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", name),
        ("task", "classification"),
        ("team_id", HOME_TEAM),
        ("description", "Scores card payments."),
    ]
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn members_add_models_and_versions_and_viewers_only_read(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;

    let refused = call::<CreateModel>(&router, Some(&viewer), &model_form("fraud-lgbm")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(count(&pool, "model").await, 0);

    let created = call::<CreateModel>(&router, Some(&member), &model_form("fraud-lgbm")).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let model_id = created.json().as_str().expect("id").to_owned();

    let again = call::<CreateModel>(&router, Some(&member), &model_form("Fraud-LGBM")).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .body
            .contains("A model named Fraud-LGBM already exists."),
        "{}",
        again.body
    );

    let version = [
        ("model_id", model_id.as_str()),
        ("version", "v3"),
        ("framework", "LightGBM 4.3"),
        ("parameter_count", "2M"),
        ("artifact_uri", "s3://models/fraud/v3"),
    ];
    assert_eq!(
        call::<AddModelVersion>(&router, Some(&viewer), &version)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let added = call::<AddModelVersion>(&router, Some(&member), &version).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let version_id = added.json().as_str().expect("id").to_owned();

    let mut bad = version;
    bad[1] = ("version", "v4");
    bad[3] = ("parameter_count", "lots");
    let refused = call::<AddModelVersion>(&router, Some(&member), &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("parameter_count"), "{}", refused.body);

    let staged = call::<SetVersionStatus>(
        &router,
        Some(&member),
        &[("model_version_id", &version_id), ("status", "staging")],
    )
    .await;
    assert_eq!(staged.status, StatusCode::OK, "{}", staged.body);
    // production only through the review gate
    let promoted = call::<SetVersionStatus>(
        &router,
        Some(&member),
        &[("model_version_id", &version_id), ("status", "production")],
    )
    .await;
    assert_eq!(promoted.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(promoted.body.contains("review gate"), "{}", promoted.body);

    let listed = call::<ListCatalog>(&router, Some(&viewer), &[]).await;
    assert_eq!(listed.status, StatusCode::OK);
    let listed = listed.json();
    assert_eq!(listed[0]["name"], "fraud-lgbm");
    assert_eq!(
        listed[0]["versions"][0],
        serde_json::json!(["v3", "staging"])
    );
    // not measured yet: Tier 2 with the reason
    assert_eq!(listed[0]["placement"]["tier"], "Tier2");
    let reason = listed[0]["placement"]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("Not measured yet"), "{reason}");

    let detail = call::<LoadModel>(&router, Some(&viewer), &[("model_id", &model_id)]).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert_eq!(detail.json()["versions"][0]["parameter_count"], 2_000_000);

    let page = get(&router, &format!("/models/{model_id}"), Some(&viewer)).await;
    assert!(page.body.contains("fraud-lgbm"), "{}", page.body);
    assert!(page.body.contains("LightGBM 4.3"));

    assert_eq!(
        audited(&pool, "model_version").await,
        ["model_version.create", "model_version.status"]
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn only_leads_override_a_tier_and_only_with_a_reason(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let member = signed_in(&pool, Role::Member).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let created = call::<CreateModel>(&router, Some(&member), &model_form("llm-chat")).await;
    let model_id = created.json().as_str().expect("id").to_owned();

    let form = [
        ("model_id", model_id.as_str()),
        ("tier", "3"),
        ("reason", "customer-facing, accuracy first"),
    ];
    assert_eq!(
        call::<SetTierOverride>(&router, Some(&member), &form)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let no_reason = call::<SetTierOverride>(
        &router,
        Some(&lead),
        &[("model_id", &model_id), ("tier", "3"), ("reason", "")],
    )
    .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("\"reason\""), "{}", no_reason.body);
    // a cross-site form is refused before the role is even looked at
    let forged = call_from::<SetTierOverride>(&router, Some(&lead), &form, "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&pool, "model_tier_override").await, 0);

    let set = call::<SetTierOverride>(&router, Some(&lead), &form).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let listed = call::<ListCatalog>(&router, Some(&member), &[])
        .await
        .json();
    let placement = &listed[0]["placement"];
    assert_eq!(placement["tier"], "Tier3");
    assert_eq!(placement["ruled_tier"], "Tier2");
    assert_eq!(
        placement["reason"],
        "Set to Tier 3 by lead@example.com: customer-facing, accuracy first"
    );

    let back = call::<SetTierOverride>(
        &router,
        Some(&lead),
        &[("model_id", &model_id), ("tier", "rules"), ("reason", "")],
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(count(&pool, "model_tier_override").await, 0);
    assert_eq!(
        audited(&pool, "model").await,
        ["model.create", "model.tier_override", "model.tier_override"]
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn admins_write_tier_rules_and_bad_conditions_are_named_by_line(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let rule = [
        ("name", "Critical accuracy"),
        ("tier", "3"),
        ("conditions", "f1 >= 0.97\np95_ms <= 200"),
    ];
    assert_eq!(
        call::<CreateTierRule>(&router, Some(&lead), &rule)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let bad = call::<CreateTierRule>(
        &router,
        Some(&admin),
        &[
            ("name", "x"),
            ("tier", "3"),
            ("conditions", "f1 >= 0.97\ncost is high"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("line 2: "), "{}", bad.body);
    assert_eq!(
        count(&pool, "tier_rule").await,
        3,
        "the three default rules"
    );

    let created = call::<CreateTierRule>(&router, Some(&admin), &rule).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_str().expect("id").to_owned();
    let moved = call::<MoveTierRule>(
        &router,
        Some(&admin),
        &[("rule_id", &id), ("earlier", "true")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let order: Vec<(i32, String, Vec<String>)> =
        sqlx::query_as("select position, name, conditions from tier_rule order by position")
            .fetch_all(&pool)
            .await
            .expect("rules");
    assert_eq!(order[2].1, "Critical accuracy");
    assert_eq!(order[2].2, ["f1 >= 0.97", "p95_ms <= 200"]);
    assert_eq!(order.len(), 4);
}
