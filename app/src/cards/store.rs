//! Cards in Postgres, and the cost section computed from the ledger: telemetry priced by the GPU
//! price catalog, bill lines allocated to the model, and the experiment run that trained it.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::{
    missing_sections, readme, split_list, template, CardCost, CardView, DiffLine, MetadataForm,
    RevisionInfo,
};
use crate::audit::{self, Actor, Change};
use crate::catalog::ModelStatus;
use crate::error::AppError;
use crate::teams::access::{self, Subject};
use crate::telemetry::cost::{self, per_million_tokens, per_thousand_requests, TokenCount};

struct Revision {
    metadata: Map<String, Value>,
    body: String,
    info: RevisionInfo,
}

async fn revision(
    pool: &PgPool,
    model_version_id: Uuid,
    number: Option<i32>,
) -> Result<Option<Revision>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select revision, metadata, body, note, created_by_label, created_at
             from model_card_revision
            where model_version_id = $1 and ($2::int4 is null or revision = $2)
            order by revision desc limit 1"#,
        model_version_id,
        number
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| Revision {
        metadata: match row.metadata {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        body: row.body,
        info: RevisionInfo {
            revision: row.revision,
            note: row.note,
            by: row.created_by_label,
            at: row.created_at,
        },
    }))
}

struct VersionRow {
    model_id: Uuid,
    model: String,
    version: String,
    status: ModelStatus,
}

async fn version(pool: &PgPool, model_version_id: Uuid) -> Result<Option<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
        VersionRow,
        r#"select v.model_id, m.name as model, v.version, v.status as "status: ModelStatus"
             from model_version v join model m using (model_id)
            where v.model_version_id = $1"#,
        model_version_id
    )
    .fetch_optional(pool)
    .await
}

/// A metadata value in words: lists joined by commas, anything else as compact JSON.
fn words(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

pub async fn view(pool: &PgPool, model_version_id: Uuid) -> Result<Option<CardView>, sqlx::Error> {
    let Some(version) = version(pool, model_version_id).await? else {
        return Ok(None);
    };
    let current = revision(pool, model_version_id, None).await?;
    let revisions = sqlx::query!(
        "select revision, note, created_by_label, created_at from model_card_revision
          where model_version_id = $1 order by revision desc",
        model_version_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| RevisionInfo {
        revision: row.revision,
        note: row.note,
        by: row.created_by_label,
        at: row.created_at,
    })
    .collect();
    let versions = sqlx::query!(
        "select model_version_id, version from model_version where model_id = $1 order by created_at desc",
        version.model_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| (row.model_version_id, row.version))
    .collect();
    let (metadata, body, info) = match current {
        Some(revision) => (revision.metadata, revision.body, Some(revision.info)),
        None => (Map::new(), template(&version.model, &version.version), None),
    };
    let text = |key: &str| metadata.get(key).map(words).unwrap_or_default();
    let form = MetadataForm {
        license: text("license"),
        language: text("language"),
        datasets: text("datasets"),
        base_model: text("base_model"),
        pipeline_tag: text("pipeline_tag"),
        tags: text("tags"),
    };
    let cost = cost(pool, model_version_id, version.model_id).await?;
    Ok(Some(CardView {
        model_id: version.model_id,
        model: version.model,
        model_version_id,
        version: version.version,
        status: version.status,
        versions,
        current: info,
        revisions,
        metadata: metadata
            .iter()
            .map(|(k, v)| (k.clone(), words(v)))
            .collect(),
        form,
        html: readme::render(&body),
        missing_sections: missing_sections(&body),
        body,
        cost,
    }))
}

/// The metadata of a form: the typed fields replace theirs, other keys (model-index, metrics,
/// anything an imported card carried) are kept from the current revision.
pub fn merge_form(mut metadata: Map<String, Value>, form: &MetadataForm) -> Map<String, Value> {
    let single = |text: &str| (!text.trim().is_empty()).then(|| Value::String(text.trim().into()));
    let list = |text: &str| {
        let items = split_list(text);
        (!items.is_empty()).then(|| Value::Array(items.into_iter().map(Value::String).collect()))
    };
    let fields = [
        ("license", single(&form.license)),
        ("language", list(&form.language)),
        ("datasets", list(&form.datasets)),
        ("base_model", single(&form.base_model)),
        ("pipeline_tag", single(&form.pipeline_tag)),
        ("tags", list(&form.tags)),
    ];
    for (key, value) in fields {
        match value {
            Some(value) => metadata.insert(key.to_owned(), value),
            None => metadata.remove(key),
        };
    }
    metadata
}

/// Stores a new revision; nothing is stored when it is the same as the current one.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    model_version_id: Uuid,
    edit: Edit,
) -> Result<i32, AppError> {
    let mut tx = pool.begin().await?;
    access::require(&mut tx, actor, Subject::ModelVersion(model_version_id)).await?;
    let version = sqlx::query!(
        r#"select m.name as model, v.version from model_version v join model m using (model_id)
            where v.model_version_id = $1 for update of v"#,
        model_version_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::NotFound("No model version has this id.".into()))?;
    let current = sqlx::query!(
        "select revision, metadata, body from model_card_revision
          where model_version_id = $1 order by revision desc limit 1",
        model_version_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let metadata = match edit.form {
        Some(form) => {
            let existing = match current.as_ref().map(|c| &c.metadata) {
                Some(Value::Object(map)) => map.clone(),
                _ => Map::new(),
            };
            merge_form(existing, &form)
        }
        None => edit.metadata,
    };
    if let Some(current) = &current {
        if current.body == edit.body && current.metadata == Value::Object(metadata.clone()) {
            return Ok(current.revision);
        }
    }
    let number = current.map_or(1, |c| c.revision + 1);
    sqlx::query!(
        "insert into model_card_revision
            (model_version_id, revision, metadata, body, note, created_by, created_by_label)
         values ($1, $2, $3, $4, $5, $6, $7)",
        model_version_id,
        number,
        Value::Object(metadata),
        edit.body,
        edit.note,
        actor.user_id(),
        actor.label()
    )
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        actor,
        Change {
            action: "model_card.revise",
            entity_type: "model_version",
            entity_id: model_version_id.to_string(),
            summary: format!(
                "wrote revision {number} of the card of {} {}{}",
                version.model,
                version.version,
                if edit.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", edit.note)
                }
            ),
            detail: json!({ "revision": number, "note": edit.note }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// A card edit: from the form (metadata fields merged into the current ones), or a whole imported
/// README (its metadata replaces the current one).
pub struct Edit {
    pub form: Option<MetadataForm>,
    pub metadata: Map<String, Value>,
    pub body: String,
    pub note: String,
}

/// The README.md of a version's current card, with the cost computed now: (file name, text).
pub async fn export(
    pool: &PgPool,
    model_version_id: Uuid,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let Some(version) = version(pool, model_version_id).await? else {
        return Ok(None);
    };
    let (metadata, body) = match revision(pool, model_version_id, None).await? {
        Some(revision) => (revision.metadata, revision.body),
        None => (Map::new(), template(&version.model, &version.version)),
    };
    let cost = cost(pool, model_version_id, version.model_id).await?;
    let name = format!("{}-{}-README.md", version.model, version.version)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(Some((
        name,
        readme::write(&metadata, &cost.to_json(), &body),
    )))
}

/// The differences between two revisions of a version's card.
pub async fn diff(
    pool: &PgPool,
    model_version_id: Uuid,
    from: i32,
    to: i32,
) -> Result<Vec<DiffLine>, AppError> {
    let latest = sqlx::query_scalar!(
        "select max(revision) from model_card_revision where model_version_id = $1",
        model_version_id
    )
    .fetch_one(pool)
    .await?
    .unwrap_or(0);
    // 0 stands for the latest revision, and for the one before `to`
    let to = if to == 0 { latest } else { to };
    let from = if from == 0 { to - 1 } else { from };
    if from < 1 || to < 1 || from == to {
        return Ok(Vec::new());
    }
    let missing = |n: i32| AppError::NotFound(format!("This card has no revision {n}."));
    let before = revision(pool, model_version_id, Some(from))
        .await?
        .ok_or_else(|| missing(from))?;
    let after = revision(pool, model_version_id, Some(to))
        .await?
        .ok_or_else(|| missing(to))?;
    Ok(readme::diff(
        &readme::comparable(&before.metadata, &before.body),
        &readme::comparable(&after.metadata, &after.body),
    ))
}

/// The first day of the quarter before the one `now` is in, and of `now`'s quarter.
fn last_quarter(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>, String) {
    let quarter_month = (now.month0() / 3) * 3 + 1;
    let this = NaiveDate::from_ymd_opt(now.year(), quarter_month, 1).unwrap_or_default();
    let previous = this - Months::new(3);
    let name = format!("{}-Q{}", previous.year(), previous.month0() / 3 + 1);
    let start =
        |date: NaiveDate| Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
    (start(previous), start(this), name)
}

/// What a version's deployments measured over a window.
struct Measured {
    /// Reserved-basis cost per currency.
    costs: BTreeMap<String, Decimal>,
    requests: i64,
    kwh: f64,
    gpu_hours: BTreeMap<String, f64>,
    tokens: TokenCount,
}

async fn measured(
    pool: &PgPool,
    model_version_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Measured, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select gpu_model as "gpu_model!", currency, sum(reserved_cost) as reserved,
                  sum(gpu_seconds) as "gpu_seconds!", sum(energy_joules) as "energy!",
                  saturated_count(sum(requests)) as "requests!",
                  saturated_count(sum(input_tokens)) as "input_tokens!",
                  saturated_count(sum(output_tokens)) as "output_tokens!",
                  saturated_count(sum(cached_input_tokens)) as "cached_input_tokens!",
                  saturated_count(sum(token_requests)) as "token_requests!"
             from priced_hourly
            where model_version_id = $1 and hour >= $2 and hour < $3
            group by gpu_model, currency"#,
        model_version_id,
        from,
        to
    )
    .fetch_all(pool)
    .await?;
    let mut measured = Measured {
        costs: BTreeMap::new(),
        requests: 0,
        kwh: 0.0,
        gpu_hours: BTreeMap::new(),
        tokens: TokenCount::default(),
    };
    for row in rows {
        measured.requests = measured.requests.saturating_add(row.requests);
        measured.kwh += row.energy / 3_600_000.0;
        measured.tokens += TokenCount {
            input: row.input_tokens,
            output: row.output_tokens,
            cached_input: row.cached_input_tokens,
            requests: row.token_requests,
        };
        *measured.gpu_hours.entry(row.gpu_model).or_default() += row.gpu_seconds / 3600.0;
        if let Some(currency) = row.currency {
            *measured.costs.entry(currency).or_default() += cost::shown(row.reserved);
        }
    }
    Ok(measured)
}

fn main_currency(costs: &BTreeMap<String, Decimal>) -> Option<(String, Decimal)> {
    costs
        .iter()
        .max_by_key(|(_, cost)| **cost)
        .map(|(currency, cost)| (currency.clone(), *cost))
}

/// The cost section of a version's card, computed now.
pub async fn cost(
    pool: &PgPool,
    model_version_id: Uuid,
    model_id: Uuid,
) -> Result<CardCost, sqlx::Error> {
    let now = crate::clock::now();
    let Measured {
        costs,
        requests,
        kwh,
        gpu_hours,
        tokens,
    } = measured(pool, model_version_id, now - TimeDelta::days(30), now).await?;
    let main = main_currency(&costs);
    let cost_per_1k = main
        .as_ref()
        .and_then(|(_, cost)| per_thousand_requests(*cost, requests));
    let cost_per_1m_output = main
        .as_ref()
        .and_then(|(_, cost)| per_million_tokens(*cost, requests, tokens))
        .and_then(|per_million| per_million.output);
    let week_requests = measured(pool, model_version_id, now - TimeDelta::days(7), now)
        .await?
        .requests;
    let monthly_requests = (week_requests > 0).then(|| week_requests.saturating_mul(30) / 7);
    let projected_monthly = cost_per_1k.zip(monthly_requests).map(|(per_1k, volume)| {
        (per_1k.saturating_mul(Decimal::from(volume)) / Decimal::ONE_THOUSAND).round_dp(2)
    });

    let (quarter_start, quarter_end, quarter) = last_quarter(now);
    let quarter_costs = measured(pool, model_version_id, quarter_start, quarter_end)
        .await?
        .costs;
    let currency = main
        .as_ref()
        .map(|(c, _)| c.clone())
        .or_else(|| main_currency(&quarter_costs).map(|(c, _)| c));
    let quarter_measured = currency
        .as_ref()
        .and_then(|c| quarter_costs.get(c))
        .map(|v| v.round_dp(2));
    let quarter_billed = sqlx::query!(
        r#"select l.currency as "currency!", sum(l.billed_cost * coalesce(a.share, 1)) as "amount!"
             from current_bill_line l
             join bill_allocation a using (bill_import_id, line_number)
            where a.model_id = $1 and l.charge_period_start >= $2 and l.charge_period_start < $3
            group by l.currency order by 2 desc"#,
        model_id,
        quarter_start,
        quarter_end
    )
    .fetch_all(pool)
    .await?;
    let currency = currency.or_else(|| quarter_billed.first().map(|row| row.currency.clone()));
    let quarter_billed = quarter_billed
        .into_iter()
        .find(|row| Some(&row.currency) == currency.as_ref())
        .map(|row| row.amount.round_dp(2));

    let run = sqlx::query!(
        r#"select r.name, r.spec::text as "spec!", e.name as experiment, e.currency
             from experiment_run r join experiment e using (experiment_id)
            where r.model_version_id = $1 order by r.created_at desc limit 1"#,
        model_version_id
    )
    .fetch_optional(pool)
    .await?;
    let (training_cost, training_basis, currency) = match run {
        Some(run) => {
            let spec: Option<crate::experiments::RunSpec> = serde_json::from_str(&run.spec).ok();
            let amount = spec
                .as_ref()
                .and_then(crate::experiments::select::training_cost);
            let basis = match &amount {
                Some(_) => format!(
                    "From run {} of the experiment {} (GPU-hours × price, or the amount recorded).",
                    run.name, run.experiment
                ),
                None => format!(
                    "Run {} of the experiment {} records no training cost.",
                    run.name, run.experiment
                ),
            };
            (
                amount.map(|a| a.round_dp(2)),
                basis,
                currency.or(Some(run.currency)),
            )
        }
        None => (
            None,
            "No experiment run evaluated this version.".to_owned(),
            currency,
        ),
    };
    let energy_kwh_per_1k = (requests > 0).then(|| kwh * 1000.0 / requests as f64);
    let gpu_model = gpu_hours
        .into_iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(model, _)| model);
    Ok(CardCost {
        computed_at: now,
        currency,
        training_cost,
        training_basis,
        cost_per_1k,
        cost_per_1k_basis: match cost_per_1k {
            Some(_) => format!(
                "Every GPU-hour its deployments held in the last 30 days, priced by the GPU price catalog, over {} requests.",
                crate::format::format_count(requests)
            ),
            None => "No priced telemetry with requests in the last 30 days.".into(),
        },
        cost_per_1m_output,
        gpu_model,
        energy_kwh_per_1k: energy_kwh_per_1k.filter(|v| v.is_finite()),
        monthly_requests,
        projected_monthly,
        quarter,
        quarter_billed,
        quarter_measured,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_quarter_is_the_whole_one_before_today() {
        let at = |y, m, d| {
            Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
                .single()
                .expect("time")
        };
        let (start, end, name) = last_quarter(at(2026, 11, 28));
        assert_eq!(name, "2026-Q3");
        assert_eq!(start, at(2026, 7, 1));
        assert_eq!(end, at(2026, 10, 1));
        let january = at(2027, 1, 5);
        assert_eq!(last_quarter(january).2, "2026-Q4");
    }
}
