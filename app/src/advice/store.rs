//! Advice from the priced hourly telemetry: each deployment's last 30 days, simulated.

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

use super::simulate::{
    latency_headroom, simulate, Finding, Hour, Latency, LatencyHeadroom, Settings,
};
use super::{Advice, AdviceKind, AdviceList, Target, WINDOW_DAYS};
use crate::format::{format_money, format_unit_price};
use crate::prices::PricingKind;

/// Hours in the month a saving is stated for.
const MONTH_HOURS: f64 = 720.0;

/// Measured hours without work, at the end of the window, before GPUs are advised released.
const IDLE_HOURS: usize = 72;

/// The least busy share a p95 target must allow before fewer GPUs are advised: under it, the
/// target is missed at almost no load and GPUs are not what holds it back.
const MIN_BUSY_AT_TARGET: f64 = 0.05;

/// Days in staging after which a version holding GPUs is advised promoted or retired.
const STALE_STAGING_DAYS: f64 = 60.0;

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
    /// Its linked experiment serves in batch, or a lead marked it as tolerating interruptions.
    batch: bool,
    /// Days its version has been in staging, when it is.
    staging_days: Option<f64>,
    /// Each measured hour's latency, where it served requests.
    latency: Vec<Latency>,
    target: Option<Target>,
}

/// What a deployment is, apart from its hours.
struct About {
    key: String,
    model: Option<String>,
    pricing_kind: PricingKind,
    batch: bool,
    staging_days: Option<f64>,
    target: Option<Target>,
}

/// One priced hour of one GPU model of a deployment, as the view gives it.
struct PricedRow {
    deployment_id: Uuid,
    hour: DateTime<Utc>,
    gpu_model: String,
    currency: Option<String>,
    gpu_seconds: f64,
    busy: f64,
    requests: i64,
    reserved: Option<Decimal>,
    latency_weighted: f64,
    latency_requests: i64,
}

/// What each deployment is, apart from its hours.
async fn deployments(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<BTreeMap<Uuid, About>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"select d.deployment_id, d.key, m.name || ' ' || v.version as model,
                  d.pricing_kind as "pricing_kind: PricingKind",
                  d.interruption_tolerant or coalesce(e.mode = 'batch', false) as "batch!",
                  case when v.status = 'staging'
                       then extract(epoch from $1::timestamptz - v.updated_at)::float8 / 86400 end
                       as staging_days,
                  d.p95_target_ms, e.name as "experiment?", e.constraints as "constraints?"
             from deployment d
             left join model_version v on v.model_version_id = d.model_version_id
             left join model m on m.model_id = v.model_id
             -- the experiment that last evaluated its version
             left join lateral (
                   select e.mode, e.name, e.constraints from experiment_run r
                     join experiment e using (experiment_id)
                    where r.model_version_id = d.model_version_id
                    order by r.created_at desc limit 1) e on true"#,
        now
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| {
        let experiment = row.experiment.as_deref().zip(row.constraints.as_deref());
        let about = About {
            key: row.key,
            model: row.model,
            pricing_kind: row.pricing_kind,
            batch: row.batch,
            staging_days: row.staging_days,
            target: Target::of(row.p95_target_ms, experiment),
        };
        (row.deployment_id, about)
    })
    .collect())
}

/// The priced hours since `since`, by deployment and hour. Put in order here: grouping and sorting
/// 36,000 rows in Postgres spilled to disk and took four times as long as reading them.
async fn priced_hours(pool: &PgPool, since: DateTime<Utc>) -> Result<Vec<PricedRow>, sqlx::Error> {
    let mut rows: Vec<PricedRow> = sqlx::query!(
        r#"select p.deployment_id as "deployment_id!", p.hour as "hour!",
                  p.gpu_model as "gpu_model!", p.currency,
                  p.gpu_seconds as "gpu_seconds!", p.busy_gpu_seconds as "busy!",
                  p.requests as "requests!", p.reserved_cost as reserved,
                  p.latency_p95_weighted as "latency_weighted!",
                  p.latency_requests as "latency_requests!"
             from priced_hourly p
            where p.hour >= date_trunc('hour', $1::timestamptz)"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| PricedRow {
        deployment_id: row.deployment_id,
        hour: row.hour,
        gpu_model: row.gpu_model,
        currency: row.currency,
        gpu_seconds: row.gpu_seconds,
        busy: row.busy,
        requests: row.requests,
        reserved: row.reserved,
        latency_weighted: row.latency_weighted,
        latency_requests: row.latency_requests,
    })
    .collect();
    rows.sort_unstable_by(|a, b| {
        (a.deployment_id, a.hour, &a.gpu_model).cmp(&(b.deployment_id, b.hour, &b.gpu_model))
    });
    Ok(rows)
}

/// The catalog's rates in force at `now`: spot by (GPU model, currency), on demand by currency.
type Rates = (
    BTreeMap<(String, String), Decimal>,
    BTreeMap<String, Vec<(String, f64)>>,
);

async fn rates(pool: &PgPool, now: DateTime<Utc>) -> Result<Rates, sqlx::Error> {
    use rust_decimal::prelude::ToPrimitive;
    let mut spot = BTreeMap::new();
    let mut on_demand: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for row in sqlx::query!(
        r#"select gpu_model, currency, hourly_price, pricing_kind as "pricing_kind: PricingKind"
             from gpu_price
            where pricing_kind in ('spot', 'on_demand') and effective_from <= $1
              and (effective_to is null or $1 < effective_to)"#,
        now
    )
    .fetch_all(pool)
    .await?
    {
        if row.pricing_kind == PricingKind::Spot {
            spot.insert((row.gpu_model, row.currency), row.hourly_price);
        } else if let Some(price) = row.hourly_price.to_f64() {
            on_demand
                .entry(row.currency)
                .or_default()
                .push((row.gpu_model, price));
        }
    }
    Ok((spot, on_demand))
}

/// Each deployment's most memory one GPU held in any hour since `since`, in GiB.
async fn peak_memory(
    pool: &PgPool,
    since: DateTime<Utc>,
) -> Result<BTreeMap<Uuid, f64>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"select deployment_id, max(memory_mib_seconds / nullif(gpu_seconds, 0)) / 1024 as "peak_gib"
             from telemetry_hourly where hour >= date_trunc('hour', $1::timestamptz) group by 1"#,
        since
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .filter_map(|row| Some((row.deployment_id, row.peak_gib?)))
    .collect())
}

/// The machine types the fleet serves models from on CPUs (their devices count cores).
async fn cpu_machine_types(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("select distinct gpu_model from gpu_device where cpu_cores is not null")
        .fetch_all(pool)
        .await
}

/// Every deployment's advice over the last 30 days, largest saving first.
pub async fn load(pool: &PgPool, settings: Settings) -> Result<AdviceList, sqlx::Error> {
    let now = crate::clock::now();
    let since = now - TimeDelta::days(WINDOW_DAYS);
    // Each read on its own connection at once: the hours are the long one.
    let (about, rows, (spot, on_demand), peak_memory, retraining, cpu_types) = tokio::try_join!(
        deployments(pool, now),
        priced_hours(pool, since),
        rates(pool, now),
        peak_memory(pool, since),
        super::retrain_store::plans(pool, now),
        cpu_machine_types(pool),
    )?;
    let mut series: BTreeMap<Uuid, Series> = BTreeMap::new();
    for row in rows {
        let Some(known) = about.get(&row.deployment_id) else {
            continue;
        };
        let entry = series.entry(row.deployment_id).or_insert_with(|| Series {
            key: known.key.clone(),
            model: known.model.clone(),
            gpu_model: row.gpu_model.clone(),
            pricing_kind: known.pricing_kind,
            hours: Vec::new(),
            hour_of_day: Vec::new(),
            costs: BTreeMap::new(),
            last_hour: None,
            batch: known.batch,
            staging_days: known.staging_days,
            latency: Vec::new(),
            target: known.target.clone(),
        });
        let hour = Hour {
            held: row.gpu_seconds / 3600.0,
            busy: row.busy / 3600.0,
            requests: row.requests,
        };
        // An hour of two GPU models, or priced in two currencies, comes as two rows: one hour,
        // summed, its latency weighted by the requests it was measured over.
        let latency_ms = row.latency_weighted;
        match (entry.hours.last_mut(), entry.latency.last_mut()) {
            (Some(last), Some(latency)) if entry.last_hour == Some(row.hour) => {
                last.held += hour.held;
                last.busy += hour.busy;
                last.requests = last.requests.saturating_add(hour.requests);
                let requests = latency.requests.saturating_add(row.latency_requests);
                if requests > 0 {
                    latency.p95_ms =
                        (latency.p95_ms * latency.requests as f64 + latency_ms) / requests as f64;
                }
                latency.requests = requests;
                latency.busy_share = last.busy / last.held.max(1e-9);
            }
            _ => {
                entry.hours.push(hour);
                entry.hour_of_day.push(row.hour.hour());
                entry.latency.push(Latency {
                    busy_share: hour.busy / hour.held.max(1e-9),
                    p95_ms: if row.latency_requests > 0 {
                        latency_ms / row.latency_requests as f64
                    } else {
                        0.0
                    },
                    requests: row.latency_requests,
                });
            }
        }
        entry.last_hour = Some(row.hour);
        if let (Some(currency), Some(cost)) = (row.currency, row.reserved) {
            *entry.costs.entry(currency).or_default() += cost;
        }
    }
    let deployments = series.len();
    let mut advice: Vec<Advice> = Vec::new();
    let mut diagnoses = Vec::new();
    for (id, s) in series {
        let peak = peak_memory.get(&id).copied();
        diagnoses.extend(s.diagnose(peak));
        let headroom = s
            .target
            .as_ref()
            .and_then(|target| latency_headroom(&s.latency, target.ms));
        // Sized to keep the p95 target where it is known; where even no load misses it, fewer
        // GPUs cannot be advised.
        let sized = match headroom {
            Some(h) if h.busy_at_target < MIN_BUSY_AT_TARGET => None,
            Some(h) => Some(Settings {
                max_utilization: settings.max_utilization.min(h.busy_at_target),
                ..settings
            }),
            None => Some(settings),
        };
        let finding = sized.and_then(|sized| simulate(&s.hours, &s.hour_of_day, &sized));
        if let Some(found) = finding
            .as_ref()
            .zip(sized)
            .and_then(|(f, sized)| advise(&s, f, &sized, headroom.as_ref()))
        {
            advice.push(found);
        }
        // Nothing to move to spot where the GPUs can go.
        if finding.is_some_and(|f| f.plan.kind == AdviceKind::Release) {
            continue;
        }
        advice.extend(idle(&s));
        advice.extend(stale(&s));
        let catalog = s
            .main_cost()
            .and_then(|(currency, ..)| on_demand.get(&currency));
        if let (Some(catalog), Some(peak)) = (catalog, peak) {
            advice.extend(cheaper_card(&s, peak, catalog, &settings));
            if !cpu_types.contains(&s.gpu_model) {
                let machines: Vec<&(String, f64)> = catalog
                    .iter()
                    .filter(|(model, _)| cpu_types.contains(model))
                    .collect();
                advice.extend(cpu_machine(&s, peak, &machines, &settings));
            }
        }
        let rate = s
            .main_cost()
            .and_then(|(currency, ..)| spot.get(&(s.gpu_model.clone(), currency)).copied());
        if let Some(found) = rate.and_then(|rate| spot_advice(&s, rate, &settings)) {
            advice.push(found);
        }
    }
    diagnoses.sort_by(|a, b| a.deployment.cmp(&b.deployment));
    advice.sort_by(|a, b| {
        b.saving_per_month
            .cmp(&a.saving_per_month)
            .then_with(|| a.deployment.cmp(&b.deployment))
    });
    Ok(AdviceList {
        advice,
        deployments,
        settings,
        retraining,
        diagnoses,
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

impl Series {
    /// The currency most was paid in, what was paid in it, and that scaled to a 720-hour month.
    fn main_cost(&self) -> Option<(String, Decimal, Decimal)> {
        let (currency, cost) = self.costs.iter().max_by_key(|(_, cost)| **cost)?;
        let to_month = Decimal::from_f64(MONTH_HOURS / (self.hours.len() as f64).max(1.0))?;
        Some((currency.clone(), *cost, (*cost * to_month).round_dp(2)))
    }

    fn held_gpu_hours(&self) -> f64 {
        self.hours.iter().map(|h| h.held).sum()
    }

    /// What holds it back, from its busy share and its peak memory on its card.
    fn diagnose(&self, peak_gib: Option<f64>) -> Option<super::bottleneck::Diagnosis> {
        use super::bottleneck::{card_memory_gib, diagnose};
        let held = self.held_gpu_hours();
        if held <= 0.0 {
            return None;
        }
        let busy: f64 = self.hours.iter().map(|h| h.busy).sum();
        let memory_share = card_memory_gib(&self.gpu_model)
            .zip(peak_gib)
            .map(|(card, peak)| peak / card)
            .filter(|share| (0.0..=1.0).contains(share));
        let measured: f64 = self.latency.iter().map(|l| l.requests as f64).sum();
        let p95 = (measured > 0.0)
            .then(|| {
                self.latency
                    .iter()
                    .map(|l| l.p95_ms * l.requests as f64)
                    .sum::<f64>()
                    / measured
            })
            .zip(self.target.as_ref().map(|t| t.ms));
        Some(diagnose(&self.key, busy / held, memory_share, p95))
    }

    /// A batch job: its linked experiment says so, or it counts no requests while its GPUs work.
    fn is_batch(&self) -> bool {
        self.batch
            || (self.hours.iter().all(|h| h.requests == 0)
                && self.hours.iter().any(|h| h.busy > 0.0))
    }
}

/// Giving back GPUs that have done nothing for days, after work before: the saving is what holding
/// them idle costs a month (at most what the deployment costs).
fn idle(series: &Series) -> Option<Advice> {
    let tail = super::simulate::idle_tail(&series.hours);
    if tail < IDLE_HOURS {
        return None;
    }
    let (currency, _, cost_per_month) = series.main_cost()?;
    let measured = series.hours.len() as f64;
    let held = series.held_gpu_hours();
    let tail_held: f64 = series.hours[series.hours.len() - tail..]
        .iter()
        .map(|h| h.held)
        .sum();
    let rate = (tail_held / tail as f64) / (held / measured);
    let saving_per_month = (cost_per_month * Decimal::from_f64(rate)?)
        .min(cost_per_month)
        .round_dp(2);
    let gpu = series.gpu_model.trim_start_matches("NVIDIA ");
    let gpus = (tail_held / tail as f64).round().max(1.0);
    Some(Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: AdviceKind::Idle,
        action: format!(
            "Release its {}: idle for the last {} days",
            plural(gpus, &format!("{gpu} GPU"), &format!("{gpu} GPUs")),
            tail / 24
        ),
        saving_per_month,
        cost_per_month,
        currency: currency.clone(),
        figures: vec![
            format!(
                "The last {tail} measured hours held {tail_held:.0} GPU-hours without a request or any work, after {} hours that had some.",
                series.hours.len() - tail
            ),
            format!(
                "Held idle, they cost {} a month.",
                format_money(saving_per_month, &currency)
            ),
        ],
        risk: "Traffic that comes back needs the GPUs again: keep the deployment's settings to start it in minutes.".into(),
    })
}

/// A version in staging for months that still holds GPUs: promote it or retire it.
fn stale(series: &Series) -> Option<Advice> {
    let days = series.staging_days.filter(|d| *d >= STALE_STAGING_DAYS)?;
    let (currency, _, cost_per_month) = series.main_cost()?;
    if cost_per_month <= Decimal::ZERO {
        return None;
    }
    let version = series.model.clone().unwrap_or_else(|| series.key.clone());
    Some(Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: AdviceKind::Stale,
        action: format!("Promote or retire {version}: in staging for {days:.0} days"),
        saving_per_month: cost_per_month,
        cost_per_month,
        currency: currency.clone(),
        figures: vec![format!(
            "Its version has been in staging since {:.0} days ago and its deployment holds {:.0} GPU-hours over {} measured hours: {} a month.",
            days,
            series.held_gpu_hours(),
            series.hours.len(),
            format_money(cost_per_month, &currency)
        )],
        risk: "A version kept to compare against production still needs its GPUs while the comparison runs; retire it once it has answered.".into(),
    })
}

/// A deployment whose GPUs mostly wait, on a card larger than its memory needs: the cheapest card
/// in the catalog that holds its peak with room, at the on-demand rates' ratio.
fn cheaper_card(
    series: &Series,
    peak_gib: f64,
    catalog: &[(String, f64)],
    settings: &Settings,
) -> Option<Advice> {
    use super::bottleneck::{card_memory_gib, classify, Bound, MEMORY_ROOM};
    let card = card_memory_gib(&series.gpu_model)?;
    // A reading above the card's memory is not one GPU's: nothing to conclude from it.
    if peak_gib > card || peak_gib <= 0.0 {
        return None;
    }
    let held = series.held_gpu_hours();
    let busy: f64 = series.hours.iter().map(|h| h.busy).sum();
    let share = busy / held;
    if classify(share, Some(peak_gib / card)) != Bound::Waiting {
        return None;
    }
    let current = catalog
        .iter()
        .find(|(model, _)| *model == series.gpu_model)?
        .1;
    let (model, price) = super::bottleneck::cheaper_card(
        &series.gpu_model,
        current,
        peak_gib,
        share,
        settings.max_utilization,
        catalog,
    )?;
    let price = *price;
    let ratio = 1.0 - price / current;
    if ratio < settings.min_saving {
        return None;
    }
    let (currency, _, cost_per_month) = series.main_cost()?;
    let saving_per_month = (cost_per_month * Decimal::from_f64(ratio)?).round_dp(2);
    let from = series.gpu_model.trim_start_matches("NVIDIA ");
    let to = model.trim_start_matches("NVIDIA ");
    let to_memory = card_memory_gib(model).unwrap_or_default();
    Some(Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: AdviceKind::Bottleneck,
        action: format!("Move it from {from} to {to} GPUs: its GPUs mostly wait"),
        saving_per_month,
        cost_per_month,
        currency: currency.clone(),
        figures: vec![
            format!(
                "Mostly waiting: its GPUs were busy {:.0}% of the time they were held, and used at most {peak_gib:.1} of the {card:.0} GiB of memory in any hour.",
                share * 100.0
            ),
            format!(
                "The {to} has {to_memory:.0} GiB, room for that peak with {:.0}% to spare; computing in proportion to its price, it would be about {:.0}% busy. It costs {} instead of {} per GPU-hour on demand: {:.0}% less.",
                (MEMORY_ROOM - 1.0) * 100.0,
                share * current / price * 100.0,
                format_unit_price(Decimal::from_f64(price)?.round_dp(4), &currency),
                format_unit_price(Decimal::from_f64(current)?.round_dp(4), &currency),
                ratio * 100.0
            ),
        ],
        risk: format!(
            "A smaller card computes more slowly: work that kept the {from} {:.0}% busy keeps the {to} busier, and its latency is not measured there; run a measured experiment before moving.",
            share * 100.0
        ),
    })
}

/// A deployment whose GPUs mostly wait on work light enough for CPUs: the cheapest machine type
/// the fleet already serves from, as many machines each hour as its work needs at
/// `CPU_SLOWDOWN` times the GPU's time.
fn cpu_machine(
    series: &Series,
    peak_gib: f64,
    machines: &[&(String, f64)],
    settings: &Settings,
) -> Option<Advice> {
    use super::bottleneck::{classify, cpu_machine_hours, Bound, CPU_MODEL_GIB, CPU_SLOWDOWN};
    use rust_decimal::prelude::ToPrimitive;
    if peak_gib <= 0.0 || peak_gib > CPU_MODEL_GIB {
        return None;
    }
    let held = series.held_gpu_hours();
    let busy: f64 = series.hours.iter().map(|h| h.busy).sum();
    if held <= 0.0 || classify(busy / held, None) != Bound::Waiting {
        return None;
    }
    let (machine, price) = machines
        .iter()
        .filter(|(_, price)| *price > 0.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let hours: Vec<(f64, bool)> = series
        .hours
        .iter()
        .map(|h| (h.busy, h.requests > 0 || h.busy > 1e-9))
        .collect();
    let peak_held = series.hours.iter().map(|h| h.held).fold(0.0, f64::max);
    let most = (peak_held.ceil() as u32).saturating_mul(4).max(4);
    let machine_hours = cpu_machine_hours(&hours, settings.max_utilization, most)?;
    let (currency, cost, cost_per_month) = series.main_cost()?;
    let paid = cost.to_f64()?;
    let instead = machine_hours * price;
    if paid <= 0.0 || instead >= paid * (1.0 - settings.min_saving) {
        return None;
    }
    let share = Decimal::from_f64(1.0 - instead / paid)?;
    let saving_per_month = (cost_per_month * share).round_dp(2);
    let gpu = series.gpu_model.trim_start_matches("NVIDIA ");
    Some(Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: AdviceKind::Bottleneck,
        action: format!("Serve it from {machine} CPU machines instead of {gpu} GPUs"),
        saving_per_month,
        cost_per_month,
        currency: currency.clone(),
        figures: vec![
            format!(
                "Its GPUs were busy {:.1}% of the {held:.0} GPU-hours held and used at most {peak_gib:.1} GiB of memory: work a CPU machine holds.",
                busy / held * 100.0
            ),
            format!(
                "Taking a CPU {CPU_SLOWDOWN:.0} times slower, each serving hour needs its busy GPU-hours × {CPU_SLOWDOWN:.0} ÷ {:.0}% machines, at least one: {machine_hours:.0} machine-hours at {} an hour, {}, where its GPU-hours cost {}.",
                settings.max_utilization * 100.0,
                format_unit_price(Decimal::from_f64(*price)?.round_dp(4), &currency),
                format_money(Decimal::from_f64(instead)?.round_dp(2), &currency),
                format_money(cost, &currency),
            ),
        ],
        risk: format!(
            "How much slower a CPU is depends on the model: {CPU_SLOWDOWN:.0} times is typical of inference, not measured for this one; run a measured experiment on {machine} before moving, and check its p95."
        ),
    })
}

/// Giving back GPUs nothing ran on.
fn release(series: &Series, finding: &Finding, cost_per_month: Decimal, currency: &str) -> Advice {
    let gpu = series.gpu_model.trim_start_matches("NVIDIA ");
    Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: AdviceKind::Release,
        action: format!(
            "Release its {}: nothing ran on them",
            plural(finding.peak_held.round().max(1.0), &format!("{gpu} GPU"), &format!("{gpu} GPUs"))
        ),
        saving_per_month: cost_per_month,
        cost_per_month,
        currency: currency.to_owned(),
        figures: vec![format!(
            "{:.0} GPU-hours held over {} measured hours of the last {WINDOW_DAYS} days, without a request or any work: {} a month.",
            finding.held_gpu_hours,
            series.hours.len(),
            format_money(cost_per_month, currency),
        )],
        risk: "Work that runs less often than monthly would not show here; check with its owners before releasing.".into(),
    }
}

/// The spot rate instead of on-demand: for a batch job all of it, for real-time serving a share
/// with on-demand fallback.
fn spot_advice(series: &Series, spot_price: Decimal, settings: &Settings) -> Option<Advice> {
    use rust_decimal::prelude::ToPrimitive;
    if series.pricing_kind != PricingKind::OnDemand {
        return None;
    }
    let (currency, cost, cost_per_month) = series.main_cost()?;
    let held = series.held_gpu_hours();
    let batch = series.is_batch();
    let instead =
        super::simulate::spot(held, cost.to_f64()?, spot_price.to_f64()?, batch, settings)?;
    let share = Decimal::from_f64(1.0 - instead / cost.to_f64()?)?;
    let saving_per_month = (cost_per_month * share).round_dp(2);
    if saving_per_month <= Decimal::ZERO {
        return None;
    }
    let gpu = series.gpu_model.trim_start_matches("NVIDIA ");
    let paid = (cost / Decimal::from_f64(held)?).round_dp(4);
    let rerun = settings.spot_rerun * 100.0;
    let (action, risk) = if batch {
        (
            format!("Run it on spot {gpu} GPUs"),
            format!("Spot GPUs are taken back at short notice: the job must checkpoint and start again; {rerun:.0}% more GPU-hours are allowed for work run again."),
        )
    } else {
        (
            format!(
                "Serve {:.0}% of it from spot {gpu} GPUs, with on-demand ones as the fallback",
                settings.spot_share_real_time * 100.0
            ),
            "An interruption takes the spot share's capacity away until the on-demand fallback takes the load: keep the fallback warm enough for the p95 target.".into(),
        )
    };
    Some(Advice {
        deployment: series.key.clone(),
        model: series.model.clone(),
        kind: AdviceKind::Spot,
        action,
        saving_per_month,
        cost_per_month,
        currency: currency.clone(),
        figures: vec![
            format!(
                "{:.0} GPU-hours on demand over {} measured hours, at {} per GPU-hour; the catalog's spot rate is {}.",
                held,
                series.hours.len(),
                format_unit_price(paid, &currency),
                format_unit_price(spot_price, &currency),
            ),
            if batch {
                format!("A batch job ({}): all of it on spot, with {rerun:.0}% more GPU-hours for work run again.", if series.batch { "its experiment says so, or a lead marked it as tolerating interruptions" } else { "it counts no requests while its GPUs work" })
            } else {
                "Real-time serving: the spot share is priced with the same allowance for work run again.".into()
            },
        ],
        risk,
    })
}

/// The advice's words and money for one deployment's finding, in its main currency.
fn advise(
    series: &Series,
    finding: &Finding,
    settings: &Settings,
    headroom: Option<&LatencyHeadroom>,
) -> Option<Advice> {
    let (currency, cost, cost_per_month) = series.main_cost()?;
    let cost = &cost;
    let currency = &currency;
    let measured = series.hours.len() as f64;
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
        AdviceKind::Release => {
            return Some(release(series, finding, cost_per_month, currency));
        }
        AdviceKind::Spot | AdviceKind::Idle | AdviceKind::Stale | AdviceKind::Bottleneck => {
            return None;
        }
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
    let mut figures = figures;
    let mut risk = format!(
        "Its GPUs were at most {:.0}% busy in any hour, so latency at {max_utilization:.0}% is not measured; check the p95 target before acting.",
        finding.highest_utilization * 100.0
    );
    if let (Some(h), Some(target)) = (headroom, series.target.as_ref()) {
        let busy: f64 = series.hours.iter().map(|h| h.busy).sum();
        let requests: f64 = series.hours.iter().map(|h| h.requests as f64).sum();
        let per_gpu_hour = if busy > 0.0 {
            requests / busy * settings.max_utilization
        } else {
            0.0
        };
        figures.insert(
            1,
            format!(
                "Its p95 target is {} ms ({}). Over {} hours measured at up to {:.0}% busy, its p95 points to {:.1} ms at no load; growing as 1 / (1 − busy), as a queue's does, it reaches the target at {:.0}% busy. Each GPU is kept at most {max_utilization:.0}% busy{}: about {} requests a GPU-hour.",
                crate::format::format_number(target.ms.round()),
                target.source,
                h.hours,
                h.measured_up_to * 100.0,
                h.unloaded_p95_ms,
                h.busy_at_target * 100.0,
                if h.busy_at_target <= settings.max_utilization + 1e-9 {
                    ", the target's bound"
                } else {
                    ", the lead's headroom, the tighter bound"
                },
                crate::format::format_count(per_gpu_hour.round() as i64),
            ),
        );
        risk = format!(
            "Latency at {max_utilization:.0}% busy is extrapolated from hours at most {:.0}% busy by a queue's growth; watch the p95 against its {} ms target after the change.",
            h.measured_up_to * 100.0,
            crate::format::format_number(target.ms.round()),
        );
    }
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

/// The settings a lead saved (the defaults until then).
pub async fn settings(pool: &PgPool) -> Result<Settings, sqlx::Error> {
    use rust_decimal::prelude::ToPrimitive;
    let row = sqlx::query!(
        "select max_utilization_pct, startup_minutes, min_saving_pct, spot_rerun_pct,
                spot_share_real_time_pct
           from advice_setting"
    )
    .fetch_optional(pool)
    .await?;
    let defaults = Settings::default();
    Ok(row.map_or(defaults, |row| {
        let pct = |value: Decimal, default: f64| value.to_f64().map_or(default, |v| v / 100.0);
        Settings {
            max_utilization: pct(row.max_utilization_pct, defaults.max_utilization),
            startup_minutes: row
                .startup_minutes
                .to_f64()
                .unwrap_or(defaults.startup_minutes),
            min_saving: pct(row.min_saving_pct, defaults.min_saving),
            spot_rerun: pct(row.spot_rerun_pct, defaults.spot_rerun),
            spot_share_real_time: pct(row.spot_share_real_time_pct, defaults.spot_share_real_time),
        }
    }))
}

pub async fn save_settings(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    settings: Settings,
) -> Result<(), crate::error::AppError> {
    let pct =
        |value: f64| Decimal::from_f64((value * 100.0 * 100.0).round() / 100.0).unwrap_or_default();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "insert into advice_setting (singleton, max_utilization_pct, startup_minutes, min_saving_pct,
                spot_rerun_pct, spot_share_real_time_pct, updated_by_label, updated_at)
         values (true, $1, $2, $3, $4, $5, $6, now())
         on conflict (singleton) do update set max_utilization_pct = $1, startup_minutes = $2,
             min_saving_pct = $3, spot_rerun_pct = $4, spot_share_real_time_pct = $5,
             updated_by_label = $6, updated_at = now()",
        pct(settings.max_utilization),
        Decimal::from_f64(settings.startup_minutes).unwrap_or_default().round_dp(2),
        pct(settings.min_saving),
        pct(settings.spot_rerun),
        pct(settings.spot_share_real_time),
        actor.label()
    )
    .execute(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        actor,
        crate::audit::Change {
            action: "advice.settings",
            entity_type: "advice_setting",
            entity_id: "advice".into(),
            summary: format!(
                "set the advice to keep GPUs at most {:.0}% busy, replicas starting in {:.0} minutes, advising savings from {:.0}%, {:.0}% spot work run again and {:.0}% of real-time serving on spot",
                settings.max_utilization * 100.0,
                settings.startup_minutes,
                settings.min_saving * 100.0,
                settings.spot_rerun * 100.0,
                settings.spot_share_real_time * 100.0
            ),
            detail: serde_json::to_value(settings).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A lead marks a deployment as surviving interruptions (priced on spot like a batch job), or not.
pub async fn set_interruption_tolerant(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    key: &str,
    tolerant: bool,
) -> Result<(), crate::error::AppError> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "update deployment set interruption_tolerant = $2, updated_at = now() where key = $1
         returning deployment_id",
        key,
        tolerant
    )
    .fetch_optional(&mut *tx)
    .await?;
    let summary = if tolerant {
        format!("marked {key} as tolerating interruptions (priced on spot like a batch job)")
    } else {
        format!("marked {key} as not tolerating interruptions")
    };
    let detail = serde_json::json!({ "key": key, "interruption_tolerant": tolerant });
    serving_changed(
        tx,
        actor,
        id,
        "deployment.interruption_tolerant",
        summary,
        detail,
    )
    .await
}

/// A lead holds a deployment to a p95, or clears it (then its experiment's SLA applies).
pub async fn set_p95_target(
    pool: &PgPool,
    actor: &crate::audit::Actor,
    key: &str,
    target_ms: Option<f64>,
) -> Result<(), crate::error::AppError> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query_scalar!(
        "update deployment set p95_target_ms = $2, updated_at = now() where key = $1
         returning deployment_id",
        key,
        target_ms
    )
    .fetch_optional(&mut *tx)
    .await?;
    let summary = match target_ms {
        Some(ms) => format!("held {key} to a p95 of {ms} ms"),
        None => format!("cleared {key}'s p95 target (its experiment's SLA applies)"),
    };
    let detail = serde_json::json!({ "key": key, "p95_target_ms": target_ms });
    serving_changed(tx, actor, id, "deployment.p95_target", summary, detail).await
}

/// Ends a change to how a deployment is served: a lead changes only what their teams run (the
/// team owning the deployment's model), and the change is audited with it, or nothing is kept.
async fn serving_changed(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    actor: &crate::audit::Actor,
    changed: Option<Uuid>,
    action: &'static str,
    summary: String,
    detail: serde_json::Value,
) -> Result<(), crate::error::AppError> {
    let id = changed
        .ok_or_else(|| crate::error::AppError::NotFound("No deployment has this key.".into()))?;
    crate::teams::access::require(
        &mut tx,
        actor,
        crate::teams::access::Subject::Deployment(id),
    )
    .await?;
    crate::audit::record(
        &mut *tx,
        actor,
        crate::audit::Change {
            action,
            entity_type: "deployment",
            entity_id: id.to_string(),
            summary,
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How a deployment is served, as the advice reads it: whether a lead marked it as tolerating
/// interruptions, the p95 a lead holds it to, and the target the advice uses (the lead's, else its
/// experiment's SLA). None when no deployment has the key.
pub async fn serving(
    pool: &PgPool,
    key: &str,
) -> Result<Option<(bool, Option<f64>, Option<Target>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select d.interruption_tolerant, d.p95_target_ms,
                  e.name as "experiment?", e.constraints as "constraints?"
             from deployment d
             left join lateral (
                   select e.name, e.constraints from experiment_run r
                     join experiment e using (experiment_id)
                    where r.model_version_id = d.model_version_id
                    order by r.created_at desc limit 1) e on true
            where d.key = $1"#,
        key
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|row| {
        let experiment = row.experiment.as_deref().zip(row.constraints.as_deref());
        (
            row.interruption_tolerant,
            row.p95_target_ms,
            Target::of(row.p95_target_ms, experiment),
        )
    }))
}
