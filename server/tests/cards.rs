//! Model cards through the real router: revisions, diff, README.md export and import, sanitizing.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::common::*;
use app::auth::Role;
use app::cards::{CardDiff, ImportCard, LoadCard, SaveCard};
use app::catalog::{AddModelVersion, CreateModel};

async fn a_version(router: &axum::Router, member: &str) -> String {
    let model = call::<CreateModel>(
        router,
        Some(member),
        &[
            ("name", "toxicity-distilbert"),
            ("task", "classification"),
            ("team_id", HOME_TEAM),
            ("description", ""),
        ],
    )
    .await;
    let model_id = model.json().as_str().expect("model").to_owned();
    let version = call::<AddModelVersion>(
        router,
        Some(member),
        &[
            ("model_id", &model_id),
            ("version", "v1"),
            ("framework", "PyTorch 2.4"),
            ("parameter_count", "66M"),
            ("artifact_uri", ""),
        ],
    )
    .await;
    version.json().as_str().expect("version").to_owned()
}

fn card_form<'a>(id: &'a str, body: &'a str, note: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("model_version_id", id),
        ("license", "apache-2.0"),
        ("language", "en, de"),
        ("datasets", "support-messages-2026"),
        ("base_model", "distilbert-base-uncased"),
        ("pipeline_tag", "text-classification"),
        ("tags", "moderation"),
        ("body", body),
        ("note", note),
    ]
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn every_edit_is_a_revision_and_two_revisions_can_be_compared(pool: PgPool) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let id = a_version(&router, &member).await;

    let first = "# toxicity\n\n## Intended use\n\nFlag toxic messages.\n";
    let refused = call::<SaveCard>(&router, Some(&viewer), &card_form(&id, first, "")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&pool, "model_card_revision").await, 0);

    let saved = call::<SaveCard>(&router, Some(&member), &card_form(&id, first, "first")).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json(), 1);
    // the same card again is not a new revision
    let same = call::<SaveCard>(&router, Some(&member), &card_form(&id, first, "again")).await;
    assert_eq!(same.json(), 1);
    let second = format!("{first}\n## Limitations\n\nSarcasm.\n<script>alert(1)</script>\n");
    let saved = call::<SaveCard>(&router, Some(&member), &card_form(&id, &second, "limits")).await;
    assert_eq!(saved.json(), 2);

    let card = call::<LoadCard>(&router, Some(&viewer), &[("model_version_id", &id)]).await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.body);
    let card = card.json();
    let html = card["html"].as_str().expect("html");
    assert!(html.contains("<h2>Limitations</h2>"), "{html}");
    assert!(!html.contains("<script"), "the card is sanitized: {html}");
    assert_eq!(card["current"]["revision"], 2);
    assert_eq!(card["form"]["language"], "en, de");
    assert!(card["missing_sections"]
        .as_array()
        .expect("missing")
        .contains(&serde_json::json!("Evaluation")));

    let diff = call::<CardDiff>(
        &router,
        Some(&viewer),
        &[("model_version_id", &id), ("from", "1"), ("to", "2")],
    )
    .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    let added: Vec<String> = diff
        .json()
        .as_array()
        .expect("lines")
        .iter()
        .filter(|line| line["kind"] == "Added")
        .map(|line| line["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(added.contains(&"## Limitations".to_owned()), "{added:?}");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'model_card.revise'")
            .fetch_one(&pool)
            .await
            .expect("audit");
    assert_eq!(audited, 2);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_card_exports_as_a_readme_and_imports_back_with_malformed_front_matter_refused(
    pool: PgPool,
) {
    let router = router(pool.clone());
    home_team(&pool).await;
    let viewer = signed_in(&pool, Role::Viewer).await;
    let member = signed_in(&pool, Role::Member).await;
    let id = a_version(&router, &member).await;
    let body = "# toxicity\n\n## Intended use\n\nFlag toxic messages.\n";
    call::<SaveCard>(&router, Some(&member), &card_form(&id, body, "")).await;

    let path = format!("/cards/{id}/README.md");
    let anonymous = get(&router, &path, None).await;
    assert_eq!(
        anonymous.status,
        StatusCode::SEE_OTHER,
        "signed-out readers go to sign in"
    );
    assert!(!anonymous.body.contains("pareto:"));
    let exported = get(&router, &path, Some(&viewer)).await;
    assert_eq!(exported.status, StatusCode::OK);
    assert!(exported.body.starts_with("---\n"), "{}", exported.body);
    assert!(
        exported.body.contains("license: apache-2.0"),
        "{}",
        exported.body
    );
    assert!(
        exported.body.contains("pareto:\n  computed_at:"),
        "{}",
        exported.body
    );
    assert!(exported
        .body
        .contains("No experiment run evaluated this version."));
    assert!(exported.body.ends_with("Flag toxic messages.\n"));

    let malformed = "---\nlicense: mit\ndatasets: [a, b\n---\n# Card\n";
    let refused = call::<ImportCard>(
        &router,
        Some(&member),
        &[("model_version_id", &id), ("readme", malformed)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("README.md line "), "{}", refused.body);
    assert!(refused.body.contains("not valid YAML"), "{}", refused.body);
    assert_eq!(
        count(&pool, "model_card_revision").await,
        1,
        "nothing stored"
    );

    // The exported README, with a typed-in cost, imports back: the same card, the cost ignored.
    let edited = exported
        .body
        .replace("license: apache-2.0", "license: mit")
        .replace("computed_at:", "typed_cost: 1\n  computed_at:");
    let imported = call::<ImportCard>(
        &router,
        Some(&member),
        &[("model_version_id", &id), ("readme", &edited)],
    )
    .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.json(), 2);
    let metadata: serde_json::Value =
        sqlx::query_scalar("select metadata from model_card_revision where revision = 2")
            .fetch_one(&pool)
            .await
            .expect("metadata");
    assert_eq!(metadata["license"], "mit");
    assert_eq!(metadata["language"], serde_json::json!(["en", "de"]));
    assert!(metadata.get("pareto").is_none(), "{metadata}");
    let body_now: String =
        sqlx::query_scalar("select body from model_card_revision where revision = 2")
            .fetch_one(&pool)
            .await
            .expect("body");
    assert_eq!(body_now, body.trim());
}
