use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tco::Tco;
use crate::error::AppError;

#[cfg(feature = "ssr")]
use super::{parse_engineering, parse_quarter, parse_value, store, Quarter};
#[cfg(feature = "ssr")]
use crate::audit::Actor;
#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};

/// The reports page: a quarter's TCO, the quarters to choose from and what the forms offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TcoPage {
    pub tco: Tco,
    /// The last eight quarters, newest first.
    pub quarters: Vec<String>,
    pub teams: Vec<(Uuid, String)>,
    pub models: Vec<(Uuid, String)>,
}

/// `quarter` empty: the current one.
#[server]
pub async fn load_tco(quarter: String) -> Result<TcoPage, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = guard::state()?.pool;
        let now = crate::clock::now();
        let current = Quarter::containing(now);
        let quarter = if quarter.trim().is_empty() {
            current
        } else {
            parse_quarter(&quarter)?
        };
        let mut quarters = Vec::new();
        let mut q = current;
        for _ in 0..8 {
            quarters.push(q.to_string());
            q = q.previous();
        }
        let (teams, models) = store::choices(&pool).await?;
        Ok(TcoPage {
            tco: store::tco(&pool, quarter, now).await?,
            quarters,
            teams,
            models,
        })
    })
    .await
}

#[server]
pub async fn save_engineering(
    quarter: String,
    team_id: String,
    hours: String,
    hourly_rate: String,
    currency: String,
    note: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let quarter = parse_quarter(&quarter)?;
        let team_id = Uuid::parse_str(team_id.trim())
            .map_err(|_| AppError::field("team_id", "Choose a team."))?;
        let entry = parse_engineering(&hours, &hourly_rate, &currency, &note)?;
        store::set_engineering(
            &guard::state()?.pool,
            &Actor::User(lead),
            team_id,
            quarter,
            entry,
        )
        .await
    })
    .await
}

#[server]
pub async fn save_value(
    quarter: String,
    model_id: String,
    amount: String,
    currency: String,
    note: String,
) -> Result<(), AppError> {
    guard::respond(async {
        let lead = guard::require(Role::Lead)?;
        let quarter = parse_quarter(&quarter)?;
        let model_id = Uuid::parse_str(model_id.trim())
            .map_err(|_| AppError::field("model_id", "Choose a model."))?;
        let entry = parse_value(&amount, &currency, &note)?;
        store::set_value(
            &guard::state()?.pool,
            &Actor::User(lead),
            model_id,
            quarter,
            entry,
        )
        .await
    })
    .await
}
