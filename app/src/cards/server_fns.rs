// A form's fields are the server function's arguments, one each.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use uuid::Uuid;

use super::{CardPageData, DiffLine};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{readme, store, MetadataForm};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// The longest card body Pareto keeps, in characters.
pub const MAX_BODY: usize = 100_000;

#[server]
pub async fn load_card(model_version_id: Uuid) -> Result<CardPageData, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let card = store::view(pool, model_version_id)
            .await?
            .ok_or_else(|| AppError::NotFound("No model version has this address.".into()))?;
        let breaches = crate::guardrails::store::breaches(pool, crate::clock::now())
            .await?
            .into_iter()
            .filter(|breach| breach.model_version_id == Some(model_version_id))
            .collect();
        Ok(CardPageData {
            card,
            review: crate::reviews::store::latest(pool, model_version_id).await?,
            breaches,
            evaluations: crate::experiments::store::evaluations_of(pool, model_version_id).await?,
        })
    })
    .await
}

#[cfg(feature = "ssr")]
fn check_body(body: &str, field: &str) -> Result<(), AppError> {
    if body.chars().count() > MAX_BODY {
        return Err(AppError::field(
            field,
            format!("A card holds at most {MAX_BODY} characters."),
        ));
    }
    Ok(())
}

#[server]
pub async fn save_card(
    model_version_id: Uuid,
    license: String,
    language: String,
    datasets: String,
    base_model: String,
    pipeline_tag: String,
    tags: String,
    body: String,
    note: String,
) -> Result<i32, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        check_body(&body, "body")?;
        let note = note.trim();
        if note.chars().count() > 500 {
            return Err(AppError::field("note", "At most 500 characters."));
        }
        let form = MetadataForm {
            license,
            language,
            datasets,
            base_model,
            pipeline_tag,
            tags,
        };
        if form.pipeline_tag.contains(char::is_whitespace) && !form.pipeline_tag.trim().is_empty() {
            return Err(AppError::field(
                "pipeline_tag",
                "A pipeline tag is one word, e.g. text-classification.",
            ));
        }
        let edit = store::Edit {
            form: Some(form),
            metadata: Default::default(),
            body: body.trim().to_owned(),
            note: note.to_owned(),
        };
        store::save(
            &guard::state()?.pool,
            &Actor::User(member),
            model_version_id,
            edit,
        )
        .await
    })
    .await
}

/// Replaces the card with a Hugging Face README.md (front matter + Markdown).
#[server]
pub async fn import_card(model_version_id: Uuid, readme: String) -> Result<i32, AppError> {
    guard::respond(async {
        let member = guard::require(Role::Member)?;
        check_body(&readme, "readme")?;
        if readme.trim().is_empty() {
            return Err(AppError::field(
                "readme",
                "Paste a README.md or choose the file.",
            ));
        }
        let (metadata, body) = readme::parse(&readme)
            .map_err(|error| AppError::field("readme", format!("README.md {error}.")))?;
        let edit = store::Edit {
            form: None,
            metadata,
            body,
            note: "imported from README.md".into(),
        };
        store::save(
            &guard::state()?.pool,
            &Actor::User(member),
            model_version_id,
            edit,
        )
        .await
    })
    .await
}

#[server]
pub async fn card_diff(
    model_version_id: Uuid,
    from: i32,
    to: i32,
) -> Result<Vec<DiffLine>, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        store::diff(&guard::state()?.pool, model_version_id, from, to).await
    })
    .await
}
