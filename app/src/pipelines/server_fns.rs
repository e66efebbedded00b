use leptos::prelude::*;
use uuid::Uuid;

use super::{PipelineSummary, PipelineView};
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_stages, store};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// The pipelines page: every pipeline, and the teams a new one may belong to.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PipelinesView {
    pub pipelines: Vec<PipelineSummary>,
    pub teams: Vec<(Uuid, String)>,
}

#[server]
pub async fn load_pipelines() -> Result<PipelinesView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        Ok(PipelinesView {
            pipelines: store::list(pool).await?,
            teams: crate::teams::store::list(pool)
                .await?
                .into_iter()
                .map(|team| (team.team_id, team.name))
                .collect(),
        })
    })
    .await
}

#[server]
pub async fn load_pipeline(pipeline_id: Uuid) -> Result<PipelineView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        store::view(&guard::state()?.pool, pipeline_id)
            .await?
            .ok_or_else(|| AppError::NotFound("No such pipeline.".into()))
    })
    .await
}

/// Reads a new pipeline's fields (the stages read by the caller: lines from the form, whole from
/// the API); every bad one is named.
#[cfg(feature = "ssr")]
pub fn parse_new(
    name: &str,
    team_id: &str,
    description: &str,
    stages: Result<Vec<super::StageSpec>, String>,
    sla: &str,
    monthly_volume: &str,
    currency: &str,
) -> Result<store::NewPipeline, AppError> {
    parse(
        name,
        Some(team_id),
        description,
        stages,
        sla,
        monthly_volume,
        currency,
    )
}

/// Reads a changed pipeline's fields, as `parse_new` does; its team is the one it has (the
/// returned `team_id` is not read).
#[cfg(feature = "ssr")]
pub fn parse_change(
    name: &str,
    description: &str,
    stages: Result<Vec<super::StageSpec>, String>,
    sla: &str,
    monthly_volume: &str,
    currency: &str,
) -> Result<store::NewPipeline, AppError> {
    parse(
        name,
        None,
        description,
        stages,
        sla,
        monthly_volume,
        currency,
    )
}

#[cfg(feature = "ssr")]
fn parse(
    name: &str,
    team_id: Option<&str>,
    description: &str,
    stages: Result<Vec<super::StageSpec>, String>,
    sla: &str,
    monthly_volume: &str,
    currency: &str,
) -> Result<store::NewPipeline, AppError> {
    let name = name.trim();
    let team = team_id.map_or(Ok(Uuid::nil()), |id| id.trim().parse::<Uuid>());
    let sla = crate::experiments::parse_constraints(sla);
    let volume = monthly_volume
        .trim()
        .replace([',', '_'], "")
        .parse::<u64>()
        .ok()
        .filter(|v| *v > 0 && *v <= 1_000_000_000_000);
    let currency = currency.trim().to_ascii_uppercase();
    let mut check = crate::error::Validator::new();
    check
        .check(
            !name.is_empty(),
            "name",
            "Name the pipeline, e.g. Home feed.",
        )
        .check(
            name.chars().count() <= 120,
            "name",
            "At most 120 characters.",
        )
        .check(team.is_ok(), "team_id", "Choose the team that owns it.")
        .check(
            description.chars().count() <= 2000,
            "description",
            "At most 2,000 characters.",
        )
        .check(
            volume.is_some(),
            "monthly_volume",
            "Give the requests a month, a whole number above 0, e.g. 10000000.",
        )
        .check(
            currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()),
            "currency",
            "Give a three-letter currency code, e.g. USD.",
        );
    if let Err(why) = &stages {
        check.check(false, "stages", why.clone());
    }
    if let Err(why) = &sla {
        check.check(false, "sla", why.clone());
    }
    check.finish()?;
    Ok(store::NewPipeline {
        name: name.to_owned(),
        team_id: team.unwrap_or_default(),
        description: description.trim().to_owned(),
        sla: sla.unwrap_or_default(),
        monthly_volume: volume.unwrap_or_default(),
        currency,
        stages: stages.unwrap_or_default(),
    })
}

/// Adds a pipeline (leads, for their teams).
#[server]
pub async fn create_pipeline(
    name: String,
    team_id: String,
    description: String,
    stages: String,
    sla: String,
    monthly_volume: String,
    currency: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let new = parse_new(
            &name,
            &team_id,
            &description,
            parse_stages(&stages),
            &sla,
            &monthly_volume,
            &currency,
        )?;
        store::create(&guard::state()?.pool, &Actor::User(lead), new, false).await
    })
    .await
}

/// Changes a pipeline's name, description, stages, SLA, volume and currency (leads, for their
/// teams).
#[server]
pub async fn update_pipeline(
    pipeline_id: Uuid,
    name: String,
    description: String,
    stages: String,
    sla: String,
    monthly_volume: String,
    currency: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let change = parse_change(
            &name,
            &description,
            parse_stages(&stages),
            &sla,
            &monthly_volume,
            &currency,
        )?;
        store::update(
            &guard::state()?.pool,
            &Actor::User(lead),
            pipeline_id,
            change,
        )
        .await
    })
    .await
}

#[server]
pub async fn delete_pipeline(pipeline_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        store::delete(&guard::state()?.pool, &Actor::User(lead), pipeline_id).await
    })
    .await
}

/// Reads a route as the hybrid form gives it: `light` and `heavy` as `stage:candidate` (1-based,
/// e.g. `2:1`), both of one stage, and `share_pct` sent to the heavy one; every bad field named.
/// Answers (stage, light, heavy, share), 0-based, the share from 0 to 1.
#[cfg(feature = "ssr")]
fn read_route(
    light: &str,
    heavy: &str,
    share_pct: &str,
) -> Result<(usize, usize, usize, f64), AppError> {
    let pick = |text: &str| -> Option<(usize, usize)> {
        let (stage, candidate) = text.trim().split_once(':')?;
        let stage = stage.trim().parse::<usize>().ok()?.checked_sub(1)?;
        let candidate = candidate.trim().parse::<usize>().ok()?.checked_sub(1)?;
        Some((stage, candidate))
    };
    let share = share_pct
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (0.0..=100.0).contains(s));
    let (light, heavy) = (pick(light), pick(heavy));
    let mut check = crate::error::Validator::new();
    check
        .check(
            light.is_some(),
            "light",
            "Choose the candidate most requests go to.",
        )
        .check(heavy.is_some(), "heavy", "Choose the heavier candidate.")
        .check(
            share.is_some(),
            "share_pct",
            "Give the share sent to the heavy candidate, from 0 to 100, e.g. 10.",
        );
    if let (Some(l), Some(h)) = (light, heavy) {
        check.check(
            l.0 == h.0,
            "heavy",
            "Choose the heavier candidate from the same stage as the light one.",
        );
    }
    check.finish()?;
    match (light, heavy, share) {
        (Some(light), Some(heavy), Some(share)) => Ok((light.0, light.1, heavy.1, share / 100.0)),
        _ => Err(AppError::BadRequest(
            "Choose both candidates and a share.".into(),
        )),
    }
}

/// Hybrid routing on the pipeline's cheapest combination within its SLA (or its first), as
/// `read_route` reads it.
#[server]
pub async fn blend_pipeline(
    pipeline_id: Uuid,
    light: String,
    heavy: String,
    share_pct: String,
) -> Result<super::hybrid::Blend, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let (stage, light, heavy, share) = read_route(&light, &heavy, &share_pct)?;
        store::blend(
            &guard::state()?.pool,
            pipeline_id,
            stage,
            light,
            heavy,
            share,
        )
        .await?
        .ok_or_else(|| AppError::NotFound("No such pipeline.".into()))
    })
    .await
}

/// Keeps a hybrid route on the pipeline (leads, for their teams): its page then shows the blend
/// in use.
#[server]
pub async fn keep_route(
    pipeline_id: Uuid,
    light: String,
    heavy: String,
    share_pct: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let route = read_route(&light, &heavy, &share_pct)?;
        store::set_route(
            &guard::state()?.pool,
            &Actor::User(lead),
            pipeline_id,
            Some(route),
        )
        .await
    })
    .await
}

#[server]
pub async fn stop_route(pipeline_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        store::set_route(&guard::state()?.pool, &Actor::User(lead), pipeline_id, None).await
    })
    .await
}

/// The budget portfolio's page: the open experiments to choose from and, when some are chosen,
/// the portfolio of most value within the budget beside each one's own recommendation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PortfolioView {
    /// (id, name, primary metric, currency) of each open experiment.
    pub experiments: Vec<(Uuid, String, String, String)>,
    /// (id, name, "", currency) of each pipeline.
    #[serde(default)]
    pub pipelines: Vec<(Uuid, String, String, String)>,
    pub items: Vec<super::portfolio::Item>,
    pub found: Option<super::portfolio::Portfolio>,
    /// Why nothing could be chosen.
    pub problem: Option<String>,
    pub currency: String,
    /// The budget read, and the experiments chosen with their values of a point.
    pub budget: Option<f64>,
    pub chosen: Vec<(Uuid, f64)>,
    /// The questions kept by name.
    #[serde(default)]
    pub scenarios: Vec<super::portfolio::Scenario>,
}

/// `chosen` is `id:value-of-a-point` pairs separated by `;`; `budget` a monthly amount.
#[server]
pub async fn load_portfolio(budget: String, chosen: String) -> Result<PortfolioView, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let mut view = answer(pool, &budget, &chosen).await?;
        view.scenarios = super::scenarios::list(pool).await?;
        Ok(view)
    })
    .await
}

/// The portfolio for a budget and the chosen experiments (the page's and the exports' answer);
/// bad input is said in `problem`, beside the form that holds it.
#[cfg(feature = "ssr")]
pub async fn answer(
    pool: &sqlx::PgPool,
    budget: &str,
    chosen: &str,
) -> Result<PortfolioView, AppError> {
    let experiments: Vec<(Uuid, String, String, String)> = crate::experiments::store::list(pool)
        .await?
        .into_iter()
        .filter(|e| e.status == crate::experiments::Status::Open)
        .map(|e| (e.experiment_id, e.name, e.primary_metric, e.currency))
        .collect();
    let budget_value = budget
        .trim()
        .replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|b| b.is_finite() && *b >= 0.0);
    let pipelines = store::list(pool)
        .await?
        .into_iter()
        .map(|p| (p.pipeline_id, p.name, String::new(), p.currency))
        .collect();
    let mut view = PortfolioView {
        experiments,
        pipelines,
        items: Vec::new(),
        found: None,
        problem: None,
        currency: "USD".into(),
        budget: budget_value,
        chosen: Vec::new(),
        scenarios: Vec::new(),
    };
    let picked = match super::portfolio::parse_chosen(chosen) {
        Ok(picked) => picked,
        Err(why) => {
            view.problem = Some(why);
            return Ok(view);
        }
    };
    if picked.is_empty() {
        return Ok(view);
    }
    let Some(budget) = budget_value else {
        view.problem = Some("Give the monthly budget, a number of 0 or more, e.g. 8000.".into());
        return Ok(view);
    };
    let mut currencies = std::collections::BTreeSet::new();
    for (id, point_value) in picked {
        if let Some(found) = crate::experiments::store::view(pool, id, usize::MAX).await? {
            currencies.insert(found.experiment.currency.clone());
            view.items.push(super::portfolio::item(&found, point_value));
        } else if let Some(found) = store::view(pool, id).await? {
            currencies.insert(found.currency.clone());
            view.items
                .push(super::portfolio::pipeline_item(&found, point_value));
        } else {
            continue;
        }
        view.chosen.push((id, point_value));
    }
    if currencies.len() > 1 {
        view.problem = Some(
            "The experiments chosen price in different currencies: choose ones in one currency."
                .into(),
        );
        return Ok(view);
    }
    view.currency = currencies
        .into_iter()
        .next()
        .unwrap_or_else(|| "USD".into());
    match super::portfolio::choose(&view.items, budget, &view.currency) {
        Ok(found) => view.found = Some(found),
        Err(why) => view.problem = Some(why),
    }
    Ok(view)
}

/// Keeps the portfolio's question under a name (leads): `chosen` as `load_portfolio` takes it.
#[server]
pub async fn save_portfolio(
    name: String,
    budget: String,
    chosen: String,
) -> Result<Uuid, AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let chosen = super::portfolio::parse_chosen(&chosen)
            .map_err(|why| AppError::field("chosen", why))?;
        let budget = budget
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .map_err(|_| AppError::field("budget", "Give the monthly budget as a number."))?;
        super::scenarios::save(
            &guard::state()?.pool,
            &Actor::User(lead),
            &name,
            budget,
            &chosen,
            false,
        )
        .await
    })
    .await
}

#[server]
pub async fn delete_portfolio(scenario_id: Uuid) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        super::scenarios::delete(&guard::state()?.pool, &Actor::User(lead), scenario_id).await
    })
    .await
}
