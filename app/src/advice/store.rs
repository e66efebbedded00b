//! Advice from the priced hourly telemetry: each deployment's last 30 days, simulated.

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::simulate::{simulate, Finding, Hour, Settings};
use super::{Advice, AdviceKind, AdviceList, WINDOW_DAYS};
use crate::format::{format_money, format_unit_price};
use crate::prices::PricingKind;

/// Hours in the month a saving is stated for.
const MONTH_HOURS: f64 = 720.0;

/// One deployment's measured hours, in time order, with what they cost.
struct Series {
    key: String,
    model: Option<String>,
    pricing_kind: PricingKind,
    gpu_model: String,
    hours: Vec<Hour>,
    hour_of_day: Vec<u32>,
    /// currency -> reserved cost
    costs: BTreeMap<String, Decimal>,
    last_hour: Option<DateTime<Utc>>,
}

/// Every deployment's advice over the last 30 days, largest saving first.
pub async fn load(pool: &PgPool, settings: Settings) -> Result<AdviceList, sqlx::Error> {
    let since = crate::clock::now() - TimeDelta::days(WINDOW_DAYS);
    let rows = sqlx::query!(
        r#"select p.deployment_id as "deployment_id!", d.key, m.name || ' ' || v.version as model,
                  d.pricing_kind as "pricing_kind: PricingKind",
                  p.hour as "hour!", max(p.gpu_model) as "gpu_model!", p.currency,
                  sum(p.gpu_seconds) as "gpu_seconds!", sum(p.busy_gpu_seconds) as "busy!",
                  saturated_count(sum(p.requests)) as "requests!",
                  sum(p.reserved_cost) as reserved
             from priced_hourly p
             join deployment d using (deployment_id)
             left join model_version v on v.model_version_id = d.model_version_id
             left join model m on m.model_id = v.model_id
            where p.hour >= date_trunc('hour', $1::timestamptz)
            group by p.deployment_id, d.key, model, d.pricing_kind, p.hour, p.currency
            order by d.key, p.hour"#,
        since
    )
    .fetch_all(pool)
    .await?;
    let mut series: BTreeMap<Uuid, Series> = BTreeMap::new();
    for row in rows {
        let entry = series.entry(row.deployment_id).or_insert_with(|| Series {
            key: row.key.clone(),
            model: row.model.clone(),
            gpu_model: row.gpu_model.clone(),
            pricing_kind: row.pricing_kind,
            hours: Vec::new(),
            hour_of_day: Vec::new(),
            costs: BTreeMap::new(),
            last_hour: None,
        });
        let hour = Hour {
            held: row.gpu_seconds / 3600.0,
            busy: row.busy / 3600.0,
            requests: row.requests,
        };
        // An hour priced in two currencies comes as two rows: one hour, summed.
        match entry.hours.last_mut() {
            Some(last) if entry.last_hour == Some(row.hour) => {
                last.held += hour.held;
                last.busy += hour.busy;
                last.requests = last.requests.saturating_add(hour.requests);
            }
            _ => {
                entry.hours.push(hour);
                entry.hour_of_day.push(row.hour.hour());
            }
        }
        entry.last_hour = Some(row.hour);
        if let (Some(currency), Some(cost)) = (row.currency, row.reserved) {
            *entry.costs.entry(currency).or_default() += cost;
        }
    }
    let deployments = series.len();
    let mut advice: Vec<Advice> = series
        .into_values()
        .filter_map(|s| {
            let finding = simulate(&s.hours, &s.hour_of_day, &settings)?;
            advise(&s, &finding, &settings)
        })
        .collect();
    advice.sort_by(|a, b| {
        b.saving_per_month
            .cmp(&a.saving_per_month)
            .then_with(|| a.deployment.cmp(&b.deployment))
    });
    Ok(AdviceList {
        advice,
        deployments,
        settings,
    })
}

fn plural(count: f64, one: &str, many: &str) -> String {
    let number = if count.fract().abs() < 1e-9 {
        format!("{count:.0}")
    } else {
        format!("{count:.1}")
    };
    format!(
        "{number} {}",
        if (count - 1.0).abs() < 1e-9 {
            one
        } else {
            many
        }
    )
}

/// The advice's words and money for one deployment's finding, in its main currency.
fn advise(series: &Series, finding: &Finding, settings: &Settings) -> Option<Advice> {
    let (currency, cost) = series.costs.iter().max_by_key(|(_, cost)| **cost)?;
    let measured = series.hours.len() as f64;
    let to_month = Decimal::from_f64(MONTH_HOURS / measured.max(1.0))?;
    let cost_per_month = (*cost * to_month).round_dp(2);
    let share = Decimal::from_f64(finding.saving_share())?;
    let saving_per_month = (cost_per_month * share).round_dp(2);
    if saving_per_month <= Decimal::ZERO {
        return None;
    }
    let gpu = series.gpu_model.trim_start_matches("NVIDIA ");
    let plan = finding.plan;
    let action = match plan.kind {
        AdviceKind::RightSize => format!(
            "Hold {} instead of up to {:.0}",
            plural(
                f64::from(plan.max),
                &format!("{gpu} GPU"),
                &format!("{gpu} GPUs")
            ),
            finding.peak_held
        ),
        AdviceKind::Autoscale => format!(
            "Autoscale between {} and {} {gpu} GPUs with the traffic",
            plan.min, plan.max
        ),
        AdviceKind::ScaleToZero => format!(
            "Scale between 0 and {} {gpu} GPUs, to none in hours without requests",
            plan.max
        ),
    };
    let busiest: Vec<String> = finding
        .busiest_hours
        .iter()
        .map(|h| format!("{h:02}:00"))
        .collect();
    let when = if busiest.is_empty() {
        "in most hours".to_owned()
    } else {
        format!("most often at {} UTC", busiest.join(", "))
    };
    let price = (*cost / Decimal::from_f64(finding.held_gpu_hours)?).round_dp(4);
    let max_utilization = settings.max_utilization * 100.0;
    let figures = vec![
        format!(
            "{} held on average, {} at most; at most {} needed to keep each GPU at most {max_utilization:.0}% busy ({when}).",
            plural(finding.held_gpu_hours / measured, "GPU", "GPUs"),
            plural(finding.peak_held, "GPU", "GPUs"),
            finding.peak_needed,
        ),
        format!(
            "{:.0} GPU-hours measured over {:.0} hours of the last {WINDOW_DAYS} days, at {} per GPU-hour (its own priced hours), {} a month at that traffic.",
            finding.held_gpu_hours,
            measured,
            format_unit_price(price, currency),
            format_money(cost_per_month, currency),
        ),
        format!(
            "Simulated hour by hour, the plan holds {:.0} GPU-hours instead: {:.0}% less.",
            plan.gpu_hours,
            finding.saving_share() * 100.0
        ),
    ];
    let mut risk = format!(
        "Its GPUs were at most {:.0}% busy in any hour, so latency at {max_utilization:.0}% is not measured; check the p95 target before acting.",
        finding.highest_utilization * 100.0
    );
    if plan.kind != AdviceKind::RightSize {
        risk.push_str(&format!(
            " A new replica takes {:.0} minutes to serve: a burst faster than that waits for it.",
            settings.startup_minutes
        ));
    }
    if plan.kind == AdviceKind::ScaleToZero {
        risk.push_str(" The first request after an empty hour waits for a cold start.");
    }
    if matches!(
        series.pricing_kind,
        PricingKind::Reserved | PricingKind::OnPrem
    ) {
        risk.push_str(&format!(
            " Its GPUs are {}: they cost the same held or not until the commitment ends, so the saving comes when it is renewed for fewer.",
            series.pricing_kind.label()
        ));
    }
    Some(Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: plan.kind,
        action,
        saving_per_month,
        cost_per_month,
        currency: currency.clone(),
        figures,
        risk,
    })
}
