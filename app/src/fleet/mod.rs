//! The fleet: GPU hosts, their GPUs and the deployments on them, with what they cost.

mod detail_page;
mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use detail_page::DeploymentPage;
pub use page::FleetPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, Validator};
use crate::prices::PricingKind;
use crate::telemetry::cost::{Cost, PerMillionTokens, TokenCount, Usage};

/// An agent silent for longer than this is flagged as stale.
pub const STALE_AFTER_MINUTES: i64 = 5;

/// Cost in one currency, with what it buys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CurrencyCost {
    pub currency: String,
    pub cost: Cost,
    pub requests: i64,
    pub per_thousand_reserved: Option<Decimal>,
    pub per_thousand_utilization_weighted: Option<Decimal>,
    /// Tokens counted in the hours this cost prices.
    pub tokens: TokenCount,
    pub per_million_tokens_reserved: Option<PerMillionTokens>,
    pub per_million_tokens_utilization_weighted: Option<PerMillionTokens>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct DeploymentCost {
    pub deployment_id: Uuid,
    pub key: String,
    /// "name version" when linked to a model version.
    pub model: Option<String>,
    pub pricing_kind: PricingKind,
    pub gpus: i64,
    /// Served by CPU machines only (its devices are CPU allotments, not GPUs).
    pub on_cpu: bool,
    pub hosts: Vec<String>,
    pub last_seen_at: DateTime<Utc>,
    pub stale: bool,
    pub usage: Usage,
    /// Tokens read and written, for a language model whose server counts them.
    pub tokens: TokenCount,
    /// Request-weighted mean of the time to first token's p95, when the server reports it.
    pub ttft_p95_ms: Option<f64>,
    /// One entry per currency the prices are in; never summed across currencies.
    pub costs: Vec<CurrencyCost>,
    /// GPU-hours no price covers (unknown GPU model or a gap in the catalog).
    pub unpriced_gpu_hours: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gpu {
    pub host: String,
    pub gpu_index: i32,
    pub gpu_uuid: String,
    pub gpu_model: String,
    pub deployment: Option<String>,
    pub utilization_pct: f64,
    pub power_watts: f64,
    pub last_seen_at: DateTime<Utc>,
    pub stale: bool,
    pub idle: bool,
    /// What the GPU costs per day at today's price, when a price covers it (a slice: its share).
    pub cost_per_day: Option<(Decimal, String)>,
    /// A MIG slice or a time-sliced share: the card it is part of, its profile and its share.
    pub parent_gpu_uuid: Option<String>,
    pub mig_profile: Option<String>,
    pub gpu_share: f64,
    /// The Kubernetes pod ("namespace/pod") it last served, when the agent reads pods.
    pub pod: Option<String>,
    /// A CPU machine's cores this device stands for (None: a GPU); `gpu_model` is then the
    /// machine type.
    pub cpu_cores: Option<f64>,
}

impl DeploymentCost {
    /// What it runs on, counted: "2 GPUs", "1 CPU machine".
    pub fn devices(&self) -> String {
        let (one, many) = self.device_words();
        format!("{} {}", self.gpus, if self.gpus == 1 { one } else { many })
    }

    /// The device in words, one and many.
    pub fn device_words(&self) -> (&'static str, &'static str) {
        if self.on_cpu {
            ("CPU machine", "CPU machines")
        } else {
            ("GPU", "GPUs")
        }
    }

    /// The unit of held time: "GPU-hours", or for CPU machines "instance-hours".
    pub fn hours_unit(&self) -> &'static str {
        if self.on_cpu {
            "instance-hours"
        } else {
            "GPU-hours"
        }
    }
}

impl Gpu {
    /// How the device reads in the GPU list: "#0 H100 80GB HBM3", a slice "#0 H100 80GB HBM3 ·
    /// MIG 3g.40gb (43% of the card)".
    pub fn describe(&self) -> String {
        if let Some(cores) = self.cpu_cores {
            let share = if self.gpu_share < 1.0 {
                format!(" ({:.0}% of the machine)", self.gpu_share * 100.0)
            } else {
                String::new()
            };
            return format!(
                "CPU {} · {} {}{share}",
                self.gpu_model,
                crate::format::format_number(cores),
                if cores == 1.0 { "core" } else { "cores" }
            );
        }
        let card = format!(
            "#{} {}",
            self.gpu_index,
            self.gpu_model.trim_start_matches("NVIDIA ")
        );
        let share = format!("{:.0}% of the card", self.gpu_share * 100.0);
        match (&self.mig_profile, self.gpu_share < 1.0) {
            (Some(profile), _) => format!("{card} · MIG {profile} ({share})"),
            (None, true) => format!("{card} · shared ({share})"),
            (None, false) => card,
        }
    }
}

/// A model version of the registry, as a choice in a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub model_version_id: Uuid,
    /// "name version"
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fleet {
    pub days: u32,
    pub deployments: Vec<DeploymentCost>,
    pub gpus: Vec<Gpu>,
    /// The GPUs no deployment used over the range: each host's idle capacity, per GPU model.
    pub capacity: Vec<HostCapacity>,
}

/// GPUs of one host and model that no deployment used over a range, and what they cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostCapacity {
    pub host: String,
    pub gpu_model: String,
    pub gpu_hours: f64,
    /// The GPU-hours that work used all the same (something outside any deployment ran).
    pub busy_gpu_hours: f64,
    /// One entry per currency, never summed across currencies.
    pub costs: Vec<(String, Decimal)>,
    /// GPU-hours no price covers.
    pub unpriced_gpu_hours: f64,
}

impl Fleet {
    pub fn hosts(&self) -> usize {
        let mut hosts: Vec<&str> = self.gpus.iter().map(|g| g.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts.len()
    }

    /// Daily cost of the GPUs that are idle now, per currency.
    pub fn idle_cost_per_day(&self) -> Vec<(String, Decimal)> {
        let mut totals: Vec<(String, Decimal)> = Vec::new();
        for (amount, currency) in self
            .gpus
            .iter()
            .filter(|g| g.idle && !g.stale)
            .filter_map(|g| g.cost_per_day.clone())
        {
            match totals.iter_mut().find(|(c, _)| *c == currency) {
                Some((_, total)) => *total += amount,
                None => totals.push((currency, amount)),
            }
        }
        totals
    }
}

/// A model name and version for linking a deployment, trimmed and checked.
pub fn parse_link(model_name: &str, version: &str) -> Result<(String, String), AppError> {
    let model_name = model_name.trim();
    let version = version.trim();
    let mut check = Validator::new();
    check.check(
        !model_name.is_empty(),
        "model_name",
        "Name the model, e.g. fraud-lgbm.",
    );
    check.check(
        model_name.chars().count() <= 120,
        "model_name",
        "A model name has at most 120 characters.",
    );
    check.check(!version.is_empty(), "version", "Name the version, e.g. v3.");
    check.check(
        version.chars().count() <= 80,
        "version",
        "A version has at most 80 characters.",
    );
    check.finish()?;
    Ok((model_name.to_owned(), version.to_owned()))
}

/// The ranges the pages offer, in days.
/// The range's label, "7 days".
pub fn range_label(days: u32) -> &'static str {
    RANGES
        .iter()
        .find(|(d, _)| *d == days)
        .map_or("7 days", |(_, label)| label)
}

pub const RANGES: [(u32, &str); 4] = [
    (1, "24 hours"),
    (7, "7 days"),
    (30, "30 days"),
    (90, "90 days"),
];

pub fn clamp_days(days: Option<u32>) -> u32 {
    match days {
        Some(days) if RANGES.iter().any(|(d, _)| *d == days) => days,
        _ => 7,
    }
}

/// One bucket (an hour, or a day for long ranges) of a deployment's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub usage: Usage,
    pub p95_ms: Option<f64>,
    /// Reserved-basis cost of the priced GPU time in the bucket, in `DeploymentDetail::currency`.
    pub cost: Option<Decimal>,
}

impl Point {
    pub fn per_thousand(&self) -> Option<Decimal> {
        self.cost.and_then(|cost| {
            crate::telemetry::cost::per_thousand_requests(cost, self.usage.requests)
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentDetail {
    pub deployment: DeploymentCost,
    pub days: u32,
    /// Hours up to 7 days, days beyond, so that a chart never has more than 2,000 points.
    pub bucket_hours: u32,
    pub currency: Option<String>,
    pub points: Vec<Point>,
    /// The GPUs and slices the deployment holds now, each with the pod it serves.
    pub devices: Vec<Gpu>,
}

pub fn bucket_hours(days: u32) -> u32 {
    if days > 7 {
        24
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_needs_a_model_and_a_version() {
        assert_eq!(
            parse_link(" fraud-lgbm ", " v3 "),
            Ok(("fraud-lgbm".into(), "v3".into()))
        );
        let error = parse_link(" ", "").expect_err("empty");
        assert!(
            error.field_message("model_name").is_some() && error.field_message("version").is_some()
        );
        assert!(parse_link(&"m".repeat(121), "v1").is_err());
    }

    #[test]
    fn ranges_fall_back_to_a_week() {
        assert_eq!(clamp_days(Some(30)), 30);
        assert_eq!(clamp_days(Some(12)), 7);
        assert_eq!(clamp_days(None), 7);
        assert_eq!(bucket_hours(7), 1);
        assert_eq!(bucket_hours(30), 24);
    }
}
