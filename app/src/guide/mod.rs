//! The guide: three exercises in cost-aware design, walked on the demo organization with links to
//! its live pages: a classifier chosen under an F1 and latency SLA, a two-stage recommender
//! redesigned for peak traffic, and the governance of tiers, the review gate and guardrails.

mod page;

pub use page::GuidePage;

use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
use crate::auth::{guard, Role};
use crate::error::AppError;

/// Where the exercises' pages are in this installation: the demo's experiments, pipeline and
/// portfolio when it is loaded (each `None` when it is not).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GuideLinks {
    pub sentiment: Option<Uuid>,
    pub fraud: Option<Uuid>,
    pub pipeline: Option<Uuid>,
    /// The saved demo portfolio's page query.
    pub portfolio: Option<String>,
    /// A model of the catalog whose version carries a card and a review.
    pub model: Option<Uuid>,
}

#[server]
pub async fn load_guide() -> Result<GuideLinks, AppError> {
    guard::respond(async {
        guard::require(Role::Viewer)?;
        let pool = &guard::state()?.pool;
        let experiments = crate::experiments::store::list(pool).await?;
        let experiment = |name: &str| {
            experiments
                .iter()
                .find(|e| e.is_demo && e.name == name)
                .map(|e| e.experiment_id)
        };
        let pipeline = crate::pipelines::store::list(pool)
            .await?
            .into_iter()
            .find(|p| p.is_demo)
            .map(|p| p.pipeline_id);
        let portfolio = crate::pipelines::scenarios::list(pool)
            .await?
            .into_iter()
            .find(|s| s.is_demo)
            .map(|s| s.query());
        let model = crate::catalog::store::list(pool)
            .await?
            .into_iter()
            .find(|m| m.name == "recsys-two-tower")
            .map(|m| m.model_id);
        Ok(GuideLinks {
            sentiment: experiment("Review sentiment"),
            fraud: experiment("Card-fraud scoring"),
            pipeline,
            portfolio,
            model,
        })
    })
    .await
}
