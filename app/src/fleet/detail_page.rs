use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::page::GpuTable;
use super::{clamp_days, CurrencyCost, DeploymentDetail, Point, RANGES};
use crate::components::{format_count, format_money, Explain, Loaded, PageHeader};
use crate::format::{format_latency, format_money_or_dash, format_short_count};
use crate::telemetry::cost::PerMillionTokens;

/// A sentence that says what a chart shows, for people who cannot see it.
pub fn describe(
    what: &str,
    values: &[Option<f64>],
    format: impl Fn(f64) -> String,
    bucket: &str,
    period: &str,
) -> String {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    match (known.first(), known.last()) {
        (Some(_), Some(latest)) => {
            let lowest = known.iter().copied().fold(f64::INFINITY, f64::min);
            let highest = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!(
                "{what} by {bucket} over the last {period}: lowest {}, highest {}, latest {}.",
                format(lowest),
                format(highest),
                format(*latest)
            )
        }
        _ => format!("{what}: no data over the last {period}."),
    }
}

#[component]
pub fn DeploymentPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = Memo::new(move |_| params.read().get("key").unwrap_or_default());
    let days =
        Memo::new(move |_| clamp_days(query.read().get("days").and_then(|d| d.parse().ok())));
    let detail = Resource::new(
        move || (key.get(), days.get()),
        |(key, days)| super::load_deployment(key, Some(days)),
    );
    let tolerance = ServerAction::<crate::advice::SetInterruptionTolerant>::new();
    let target = ServerAction::<crate::advice::SetP95Target>::new();
    let marked = crate::components::successes(tolerance);
    let held = crate::components::successes(target);
    let advice = Resource::new(
        move || (key.get(), marked.get(), held.get()),
        |(key, ..)| crate::advice::load_deployment_advice(key),
    );
    view! {
        <Title text=move || format!("{} · Pareto", key.get()) />
        <p class="breadcrumb">
            <a href=move || format!("/fleet?days={}", days.get())>"Fleet"</a>
            " / "
        </p>
        <PageHeader
            title=key.get_untracked()
            lead="Cost, traffic, utilization and latency of one deployment."
        />
        <nav class="segmented" aria-label="Period">
            {RANGES
                .into_iter()
                .map(|(range, label)| {
                    view! {
                        <a
                            href=move || {
                                format!(
                                    "{}?days={range}",
                                    crate::format::deployment_href(&key.get()),
                                )
                            }
                            aria-current=move || (days.get() == range).then_some("true")
                        >
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <Loaded resource=detail children=|detail| view! { <Detail detail=detail /> } />
        <Loaded
            resource=advice
            children=move |found| {
                view! {
                    {found
                        .advice
                        .into_iter()
                        .map(|advice| view! { <crate::advice::AdviceCard advice=advice /> })
                        .collect_view()}
                    {found
                        .diagnosis
                        .map(|diagnosis| {
                            view! { <crate::advice::DiagnosisCard diagnosis=diagnosis /> }
                        })}
                    {found
                        .retraining
                        .map(|plan| view! { <crate::advice::RetrainingCard plan=plan /> })}
                    <crate::advice::ServingCard
                        key=key.get_untracked()
                        serving=found.serving
                        tolerance=tolerance
                        target=target
                    />
                }
            }
        />
    }
}

#[component]
fn Detail(detail: DeploymentDetail) -> impl IntoView {
    let d = &detail.deployment;
    let period = RANGES
        .iter()
        .find(|(days, _)| *days == detail.days)
        .map_or("7 days", |(_, l)| l);
    let bucket = if detail.bucket_hours == 24 {
        "day"
    } else {
        "hour"
    };
    let currency = detail.currency.clone().unwrap_or_default();
    let cost = d.costs.first().cloned();
    let per_thousand: Vec<Option<f64>> = detail
        .points
        .iter()
        .map(|p| p.per_thousand().and_then(|v| v.to_f64()))
        .collect();
    let values = |f: fn(&Point) -> Option<f64>| detail.points.iter().map(f).collect::<Vec<_>>();
    let money = {
        let currency = currency.clone();
        move |v: f64| format!("{v:.4} {currency}")
    };
    let charts = vec![
        (
            "cost-per-thousand",
            "Cost per 1,000 requests (reserved)",
            describe(
                "Cost per 1,000 requests",
                &per_thousand,
                money,
                bucket,
                period,
            ),
        ),
        (
            "requests",
            "Requests",
            describe(
                "Requests",
                &values(|p| Some(p.usage.requests as f64)),
                |v| format_count(v as i64),
                bucket,
                period,
            ),
        ),
        (
            "utilization",
            if d.on_cpu {
                "CPU utilization"
            } else {
                "GPU utilization"
            },
            describe(
                if d.on_cpu {
                    "Mean CPU utilization"
                } else {
                    "Mean GPU utilization"
                },
                &values(|p| p.usage.mean_utilization_pct()),
                |v| format!("{v:.0}%"),
                bucket,
                period,
            ),
        ),
        (
            "latency",
            "Latency p95",
            describe(
                "Request-weighted p95 latency",
                &values(|p| p.p95_ms),
                |v| format!("{v:.0} ms"),
                bucket,
                period,
            ),
        ),
    ];
    let key = d.key.clone();
    let days = detail.days;
    let explanation = cost.as_ref().map(|c| {
        format!(
            "Per 1,000 requests, reserved = what the {} held cost ÷ the requests served × 1,000: {} over {period} ÷ {} requests × 1,000. Each {} is priced at the catalog's rate in force that hour (Settings → GPU prices), a slice at its share of the card. Utilization-weighted counts only each hour's busy share ({}); {} of the reserved cost went to time the devices sat idle.",
            d.hours_unit(),
            format_money(c.cost.reserved, &c.currency),
            format_count(c.requests),
            if d.on_cpu { "machine-hour" } else { "GPU-hour" },
            format_money(c.cost.utilization_weighted, &c.currency),
            format_money(c.cost.idle, &c.currency),
        )
    });
    view! {
        <section class="card">
            <dl class="facts">
                <dt>"Model"</dt>
                <dd>
                    {d
                        .model
                        .clone()
                        .unwrap_or_else(|| "unassigned: link it on the fleet page".into())}
                </dd>
                <dt>"Pricing"</dt>
                <dd>{d.pricing_kind.label()}</dd>
                <dt>{if d.on_cpu { "Machines" } else { "GPUs" }}</dt>
                <dd>{format!("{} on {}", d.devices(), d.hosts.join(", "))}</dd>
            </dl>
        </section>
        <div class="stats">
            <div class="stat card">
                <span class="stat-value">
                    {cost
                        .as_ref()
                        .and_then(|c| c.per_thousand_reserved)
                        .map_or("—".into(), |v| format_money(v, &currency))}
                </span>
                <span class="stat-label">
                    {format!(
                        "per 1,000 requests, reserved; {} utilization-weighted",
                        cost
                            .as_ref()
                            .and_then(|c| c.per_thousand_utilization_weighted)
                            .map_or("—".into(), |v| format_money(v, &currency)),
                    )} {explanation.map(|text| view! { <Explain text=text /> })}
                </span>
            </div>
            <div class="stat card">
                <span class="stat-value">
                    {cost
                        .as_ref()
                        .map_or("—".into(), |c| format_money(c.cost.reserved, &c.currency))}
                </span>
                <span class="stat-label">
                    {format!(
                        "over {period}, reserved; {} utilization-weighted; {} idle",
                        cost
                            .as_ref()
                            .map_or(
                                "—".into(),
                                |c| format_money(c.cost.utilization_weighted, &c.currency),
                            ),
                        cost
                            .as_ref()
                            .map_or("—".into(), |c| format_money(c.cost.idle, &c.currency)),
                    )}
                </span>
            </div>
            <div class="stat card">
                <span class="stat-value">{format_count(d.usage.requests)}</span>
                <span class="stat-label">
                    {format!(
                        "requests on {:.1} {} at {} mean utilization{}",
                        d.usage.gpu_hours(),
                        d.hours_unit(),
                        d.usage.mean_utilization_pct().map_or("—".into(), |u| format!("{u:.0}%")),
                        if d.usage.energy_kwh() > 0.0 {
                            format!(", drawing {:.1} kWh", d.usage.energy_kwh())
                        } else {
                            String::new()
                        },
                    )}
                </span>
            </div>
            {cost
                .clone()
                .filter(|c| !c.tokens.is_empty())
                .map(|cost| view! { <TokenStats cost=cost ttft_p95_ms=d.ttft_p95_ms /> })}
        </div>
        {(d.unpriced_gpu_hours > 0.0)
            .then(|| {
                view! {
                    <div class="notice notice-warning" role="status">
                        {format!(
                            "{:.1} {} have no price in the catalog and are left out of the cost.",
                            d.unpriced_gpu_hours,
                            d.hours_unit(),
                        )}
                        " "
                        <a href="/settings/prices">"Add a price"</a>
                        "."
                    </div>
                }
            })}
        <div class="chart-grid">
            {charts
                .into_iter()
                .map(|(metric, title, description)| {
                    let base = format!("/charts/deployments/{key}/{metric}.svg?days={days}");
                    view! {
                        <figure class="card chart">
                            <figcaption>
                                <h2>{title}</h2>
                                <p class="muted small">{description.clone()}</p>
                            </figcaption>
                            <picture>
                                <source
                                    media="(prefers-color-scheme: dark)"
                                    srcset=format!("{base}&theme=dark")
                                />
                                <img
                                    src=format!("{base}&theme=light")
                                    alt=description
                                    width="720"
                                    height="240"
                                    loading="lazy"
                                />
                            </picture>
                        </figure>
                    }
                })
                .collect_view()}
        </div>
        {(!detail.devices.is_empty())
            .then(|| {
                let title = if d.on_cpu { "Machines and pods" } else { "GPUs and pods" };
                view! { <GpuTable gpus=detail.devices.clone() title=title /> }
            })}
    }
}

/// What a language model's tokens cost, for a deployment whose server counts them: per 1M output
/// and input tokens, each on both bases like the cost per 1,000 requests beside them.
#[component]
fn TokenStats(cost: CurrencyCost, ttft_p95_ms: Option<f64>) -> impl IntoView {
    let currency = cost.currency.clone();
    let reserved = cost.per_million_tokens_reserved;
    let weighted = cost.per_million_tokens_utilization_weighted;
    let money = |figure: fn(&PerMillionTokens) -> Option<Decimal>,
                 basis: Option<PerMillionTokens>| {
        format_money_or_dash(basis.as_ref().and_then(figure), &currency)
    };
    let tokens = cost.tokens;
    let cached =
        (tokens.input > 0).then(|| 100.0 * tokens.cached_input as f64 / tokens.input as f64);
    view! {
        <div class="stat card">
            <span class="stat-value">{money(|t| t.output, reserved)}</span>
            <span class="stat-label">
                {format!(
                    "per 1M output tokens, reserved; {} utilization-weighted",
                    money(|t| t.output, weighted),
                )}
            </span>
        </div>
        <div class="stat card">
            <span class="stat-value">{money(|t| t.input, reserved)}</span>
            <span class="stat-label">
                {format!(
                    "per 1M input tokens, reserved; {} utilization-weighted; all tokens blended {} and {}",
                    money(|t| t.input, weighted),
                    money(|t| Some(t.blended), reserved),
                    money(|t| Some(t.blended), weighted),
                )}
            </span>
        </div>
        <div class="stat card">
            <span class="stat-value">
                {format!(
                    "{} / {}",
                    format_short_count(tokens.input),
                    format_short_count(tokens.output),
                )}
            </span>
            <span class="stat-label">
                {format!(
                    "tokens read / written ({} of reads from the prefix cache); time to first token p95 {}",
                    cached.map_or("—".into(), |c| format!("{c:.0}%")),
                    format_latency(ttft_p95_ms),
                )}
            </span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn a_chart_is_described_in_words() {
        let text = describe(
            "Requests",
            &[Some(3.0), None, Some(1.0), Some(2.0)],
            |v| format!("{v:.0}"),
            "hour",
            "7 days",
        );
        assert_eq!(
            text,
            "Requests by hour over the last 7 days: lowest 1, highest 3, latest 2."
        );
        assert_eq!(
            describe("Requests", &[None], |v| v.to_string(), "hour", "7 days"),
            "Requests: no data over the last 7 days."
        );
    }
}
