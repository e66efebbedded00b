//! The API price table through the real router: who may change it, effective dates, imports from
//! LiteLLM's table and from a CSV, and the negotiated discounts.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::*;
use app::api_prices::{
    CreateApiPrice, DeleteApiPrice, ImportApiPrices, ListApiPrices, SetProviderDiscount,
};
use app::auth::Role;

fn price_form<'a>(model: &'a str, from: &'a str, to: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("provider", "mistral"),
        ("model", model),
        ("input_per_1m", "2"),
        ("output_per_1m", "6"),
        ("cached_read_per_1m", ""),
        ("cache_write_per_1m", ""),
        ("above_context_tokens", ""),
        ("input_above_per_1m", ""),
        ("output_above_per_1m", ""),
        ("batch_discount_percent", "50"),
        ("currency", "eur"),
        ("note", "contract 2027"),
        ("effective_from", from),
        ("effective_to", to),
    ]
}

fn validation_fields(reply: &Reply) -> Vec<String> {
    reply.json()["Validation"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {}", e["field"].as_str().unwrap_or(""), e["message"]))
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_table_starts_with_labelled_examples_and_only_admins_change_it(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;

    let listed = call::<ListApiPrices>(&router, Some(&viewer), &[("provider", "")]).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let table = listed.json();
    let prices = table["prices"].as_array().expect("prices");
    assert!(prices.len() >= 4);
    assert!(prices.iter().all(|p| p["is_example"] == true));
    let page = get(&router, "/settings/api-prices", Some(&viewer)).await;
    assert!(page.body.contains("gpt-4o-mini"), "{}", page.body);
    assert!(page.body.contains("example"));

    let form = price_form("mistral-large", "2027-01-01", "2027-07-01");
    let refused = call::<CreateApiPrice>(&router, Some(&lead), &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let created = call::<CreateApiPrice>(&router, Some(&admin), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.json().as_str().expect("id").to_owned();

    // One price per model at any moment: an overlapping range names the row it meets.
    let overlapping = price_form("mistral-large", "2027-06-01", "");
    let refused = call::<CreateApiPrice>(&router, Some(&admin), &overlapping).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = validation_fields(&refused).join(" ");
    assert!(
        message.contains(
            "overlaps the price of mistral mistral-large in force from 2027-01-01 to 2027-07-01"
        ),
        "{message}"
    );
    let next = price_form("mistral-large", "2027-07-01", "");
    assert_eq!(
        call::<CreateApiPrice>(&router, Some(&admin), &next)
            .await
            .status,
        StatusCode::OK
    );

    // Providers and models are one name whatever their case: the example gpt-4o is in force.
    let mut shouted = price_form("GPT-4o", "2027-01-01", "");
    shouted[0] = ("provider", "OpenAI");
    let refused = call::<CreateApiPrice>(&router, Some(&admin), &shouted).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        validation_fields(&refused)
            .join(" ")
            .contains("overlaps the price of openai GPT-4o in force from 2026-01-01 with no end"),
        "{:?}",
        validation_fields(&refused)
    );
    // A price past what the table holds is a field error, not a server error.
    let mut dear = price_form("mistral-huge", "2027-01-01", "");
    dear[3] = ("output_per_1m", "20000000");
    let refused = call::<CreateApiPrice>(&router, Some(&admin), &dear).await;
    assert_eq!(
        validation_fields(&refused),
        ["output_per_1m: \"At most 1,000,000 per million tokens.\""]
    );

    // Every bad field at once.
    let mut bad = price_form("", "2027-01-01", "2026-01-01");
    bad[2] = ("input_per_1m", "-1");
    bad[6] = ("above_context_tokens", "200000");
    let refused = call::<CreateApiPrice>(&router, Some(&admin), &bad).await;
    let fields = validation_fields(&refused);
    for field in [
        "model:",
        "input_per_1m:",
        "above_context_tokens:",
        "effective_to:",
    ] {
        assert!(
            fields.iter().any(|f| f.starts_with(field)),
            "{field} {fields:?}"
        );
    }

    assert_eq!(
        call::<DeleteApiPrice>(&router, Some(&lead), &[("api_price_id", &id)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call::<DeleteApiPrice>(&router, Some(&admin), &[("api_price_id", &id)])
            .await
            .status,
        StatusCode::OK
    );
    let audited: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where entity_type = 'api_price' order by audit_log_id",
    )
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(
        audited,
        ["api_price.create", "api_price.create", "api_price.delete"]
    );
}

/// A cut of LiteLLM's `model_prices_and_context_window.json` as its documentation and the file
/// write it: the `sample_spec` entry, prices per token in exponent form, a per-image model, a
/// long-context price and batch prices.
const LITELLM: &str = r#"{
    "sample_spec": {
        "input_cost_per_token": 0.0,
        "litellm_provider": "one of https://docs.litellm.ai/docs/providers",
        "max_tokens": "LEGACY parameter. set to max_output_tokens if provider specifies it. IF not set to max_input_tokens, if provider specifies it.",
        "output_cost_per_token": 0.0
    },
    "256-x-256/dall-e-2": {
        "input_cost_per_pixel": 2.4414e-07,
        "litellm_provider": "openai",
        "mode": "image_generation",
        "output_cost_per_pixel": 0.0
    },
    "gpt-4o": {
        "cache_read_input_token_cost": 1.25e-06,
        "input_cost_per_token": 2.5e-06,
        "input_cost_per_token_batches": 1.25e-06,
        "litellm_provider": "openai",
        "mode": "chat",
        "output_cost_per_token": 1e-05,
        "output_cost_per_token_batches": 5e-06
    },
    "gpt-4o-mini": {
        "cache_read_input_token_cost": 6e-08,
        "input_cost_per_token": 1.2e-07,
        "input_cost_per_token_batches": 6e-08,
        "litellm_provider": "openai",
        "mode": "chat",
        "output_cost_per_token": 4.8e-07,
        "output_cost_per_token_batches": 2.4e-07
    },
    "text-embedding-3-small": {
        "input_cost_per_token": 2e-08,
        "litellm_provider": "openai",
        "mode": "embedding",
        "output_cost_per_token": 0.0
    },
    "gemini/gemini-2.5-pro": {
        "input_cost_per_token": 1.25e-06,
        "input_cost_per_token_above_200k_tokens": 2.5e-06,
        "litellm_provider": "gemini",
        "mode": "chat",
        "output_cost_per_token": 1e-05,
        "output_cost_per_token_above_200k_tokens": 1.5e-05
    }
}"#;

async fn import(
    router: &axum::Router,
    cookie: &str,
    format: &str,
    providers: &str,
    content: &str,
) -> Reply {
    call::<ImportApiPrices>(
        router,
        Some(cookie),
        &[
            ("format", format),
            ("effective_from", "2026-06-01"),
            ("providers", providers),
            ("content", content),
        ],
    )
    .await
}

async fn in_force(pool: &PgPool, model: &str, at: &str) -> Option<String> {
    sqlx::query_scalar(
        "select input_per_million::text from api_price
          where model = $1 and effective_from <= $2::timestamptz
            and (effective_to is null or effective_to > $2::timestamptz)",
    )
    .bind(model)
    .bind(at)
    .fetch_optional(pool)
    .await
    .expect("price")
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn an_import_of_litellms_table_adds_changes_and_keeps_rows_from_its_date(pool: PgPool) {
    let router = router(pool.clone());
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    assert_eq!(
        import(&router, &lead, "litellm", "openai", LITELLM)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let imported = import(&router, &admin, "litellm", "openai", LITELLM).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let outcome = imported.json();
    // gpt-4o as the example row has it; gpt-4o-mini cheaper than the example; the embedding new;
    // sample_spec, the image model and gemini (not asked for) skipped.
    assert_eq!(outcome["unchanged"], 1, "{outcome}");
    assert_eq!(outcome["changed"], 1, "{outcome}");
    assert_eq!(outcome["added"], 1, "{outcome}");
    assert_eq!(outcome["skipped"], 3, "{outcome}");
    assert_eq!(
        in_force(&pool, "gpt-4o-mini", "2026-05-31")
            .await
            .as_deref(),
        Some("0.150000"),
        "the old price still prices the days before"
    );
    assert_eq!(
        in_force(&pool, "gpt-4o-mini", "2026-06-01")
            .await
            .as_deref(),
        Some("0.120000")
    );
    assert_eq!(
        in_force(&pool, "text-embedding-3-small", "2026-07-01")
            .await
            .as_deref(),
        Some("0.020000")
    );

    // The same file again changes nothing.
    let again = import(&router, &admin, "litellm", "openai", LITELLM).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["unchanged"], 3);
    // Other prices from the same day are refused, naming the model.
    let other = LITELLM.replace("1.2e-07", "1.1e-07");
    let refused = import(&router, &admin, "litellm", "openai", &other).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        validation_fields(&refused),
        ["openai gpt-4o-mini: \"Priced otherwise from 2026-06-01; import with a later date, or delete that row first.\""]
    );

    // A file with one bad entry imports nothing, and names the entry and its field.
    let before = count(&pool, "api_price").await;
    let bad = LITELLM.replace(
        r#""input_cost_per_token": 1.25e-06"#,
        r#""input_cost_per_token": "1.25""#,
    );
    let refused = import(&router, &admin, "litellm", "", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        validation_fields(&refused),
        ["gemini/gemini-2.5-pro: input_cost_per_token: \"Must be a price per token: a number from 0 up.\""]
    );
    assert_eq!(count(&pool, "api_price").await, before);

    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'api_price.import'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 2, "the two imports that were stored");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_csv_import_names_each_bad_line_and_stores_nothing_until_all_read(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let before = count(&pool, "api_price").await;
    let bad = "provider,model,input_per_1m,output_per_1m,currency\n\
               mistral,mistral-large,2,6,EUR\n\
               mistral,mistral-small,0.2,six,EUR\n";
    let refused = import(&router, &admin, "csv", "", bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        validation_fields(&refused),
        ["line 3, output_per_1m: \"Enter a number such as 2.75.\""]
    );
    assert_eq!(count(&pool, "api_price").await, before);

    let good = bad.replace("six", "0.6");
    let imported = import(&router, &admin, "csv", "", &good).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.json()["added"], 2);
    let source: String =
        sqlx::query_scalar("select source from api_price where model = 'mistral-small'")
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(source, "csv");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn admins_set_a_negotiated_discount_per_provider(pool: PgPool) {
    let router = router(pool.clone());
    let lead = signed_in(&pool, Role::Lead).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let form = [
        ("provider", "anthropic"),
        ("discount_percent", "12.5"),
        ("note", "2027 agreement"),
    ];
    assert_eq!(
        call::<SetProviderDiscount>(&router, Some(&lead), &form)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let set = call::<SetProviderDiscount>(&router, Some(&admin), &form).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let bad = call::<SetProviderDiscount>(
        &router,
        Some(&admin),
        &[
            ("provider", "openai"),
            ("discount_percent", "120"),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(
        validation_fields(&bad),
        ["discount_percent: \"Give a percentage from 0 to 100.\""]
    );
    let listed = call::<ListApiPrices>(&router, Some(&admin), &[("provider", "anthropic")]).await;
    let table = listed.json();
    assert_eq!(table["discounts"][0]["provider"], "anthropic");
    assert_eq!(table["discounts"][0]["discount_percent"], "12.50");
    assert!(table["prices"]
        .as_array()
        .expect("prices")
        .iter()
        .all(|p| p["row"]["provider"] == "anthropic"));
}
