//! The GPU price catalog through the real router.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::prices::{CreateGpuPrice, DeleteGpuPrice, ListGpuPrices};

fn price_form<'a>(
    model: &'a str,
    kind: &'a str,
    from: &'a str,
    to: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("gpu_model", model),
        ("pricing_kind", kind),
        ("hourly_price", "3.20"),
        ("energy_price_per_kwh", ""),
        ("currency", "usd"),
        ("effective_from", from),
        ("effective_to", to),
        ("note", "contract 2027"),
    ]
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_catalog_starts_with_labelled_examples_everyone_can_read(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let reply = call::<ListGpuPrices>(&router, Some(&viewer), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let prices = reply.json();
    let prices = prices.as_array().expect("list");
    assert!(prices.len() >= 6);
    assert!(
        prices.iter().all(|p| p["is_example"] == true),
        "seeded rows are marked as examples"
    );
    let page = get(&router, "/settings/prices", Some(&viewer)).await;
    assert!(page.body.contains("NVIDIA H100 80GB HBM3"), "{}", page.body);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn only_admins_change_prices(pool: PgPool) {
    let router = router(pool.clone());
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let form = price_form("NVIDIA L40S", "on_demand", "2027-01-01", "");
    let before = count(&pool, "gpu_price").await;
    assert_eq!(
        call::<CreateGpuPrice>(&router, Some(&lead), &form)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(count(&pool, "gpu_price").await, before);

    let created = call::<CreateGpuPrice>(&router, Some(&admin), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_str().expect("id").to_owned();
    assert_eq!(
        call::<DeleteGpuPrice>(&router, Some(&lead), &[("gpu_price_id", &id)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call::<DeleteGpuPrice>(&router, Some(&admin), &[("gpu_price_id", &id)])
            .await
            .status,
        StatusCode::OK
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where entity_type = 'gpu_price' order by audit_log_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(audited, ["gpu_price.create", "gpu_price.delete"]);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn overlapping_ranges_for_the_same_gpu_and_kind_are_refused(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let first = price_form("NVIDIA L40S", "spot", "2027-01-01", "2027-07-01");
    assert_eq!(
        call::<CreateGpuPrice>(&router, Some(&admin), &first)
            .await
            .status,
        StatusCode::OK
    );

    let overlapping = price_form("NVIDIA L40S", "spot", "2027-06-01", "");
    let refused = call::<CreateGpuPrice>(&router, Some(&admin), &overlapping).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let message = refused.json()["Validation"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("overlaps the spot price for NVIDIA L40S"),
        "{message}"
    );
    assert!(
        message.contains("from 2027-01-01 to 2027-07-01"),
        "{message}"
    );

    // Adjacent ranges and other kinds are fine.
    let next = price_form("NVIDIA L40S", "spot", "2027-07-01", "");
    assert_eq!(
        call::<CreateGpuPrice>(&router, Some(&admin), &next)
            .await
            .status,
        StatusCode::OK
    );
    let other_kind = price_form("NVIDIA L40S", "reserved", "2027-06-01", "");
    assert_eq!(
        call::<CreateGpuPrice>(&router, Some(&admin), &other_kind)
            .await
            .status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn bad_prices_answer_with_field_errors(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let before = count(&pool, "gpu_price").await;
    let mut form = price_form("NVIDIA L40S", "on_prem", "2027-01-01", "");
    form[2] = ("hourly_price", "-4");
    let reply = call::<CreateGpuPrice>(&router, Some(&admin), &form).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = reply.json()["Validation"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["hourly_price", "energy_price_per_kwh"]);
    assert_eq!(count(&pool, "gpu_price").await, before);
}
