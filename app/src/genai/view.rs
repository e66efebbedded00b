//! The fleet page's card of hosted models, measured from what applications report.

use leptos::prelude::*;

use super::{HostedSpendView, ModelSpend, Source};
use crate::components::Loaded;
use crate::format::{format_count, format_money, format_money_or_dash};

/// What hosted models cost over the last `days`, from the OpenTelemetry the applications send.
#[component]
pub fn HostedSpend(#[prop(into)] days: Signal<u32>) -> impl IntoView {
    let spend = Resource::new(
        move || days.get(),
        |days| super::load_hosted_spend(Some(days)),
    );
    view! {
        <Loaded
            resource=spend
            children=move |view: HostedSpendView| view! { <SpendCard view=view /> }
        />
    }
}

#[component]
fn SpendCard(view: HostedSpendView) -> impl IntoView {
    let period = crate::fleet::range_label(view.days);
    if view.models.is_empty() {
        return view! {
            <section class="card" id="hosted-models">
                <h2>"Hosted models, measured"</h2>
                <p class="muted">
                    "No application has reported its language-model calls yet. Applications instrumented with "
                    "OpenTelemetry's GenAI conventions send their token usage with "
                    <code>"OTEL_EXPORTER_OTLP_ENDPOINT=<this server>/api/v1/otlp"</code> " and "
                    <code>"OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<ingest token>"</code>
                    "; their calls are then priced here from the API price table."
                </p>
            </section>
        }
            .into_any();
    }
    let totals = view
        .totals
        .iter()
        .map(|(currency, amount)| format_money(*amount, currency))
        .collect::<Vec<_>>()
        .join(" + ");
    view! {
        <section class="card" id="hosted-models">
            <h2>{format!("Hosted models, measured, last {period}")}</h2>
            <p class="muted">
                "Token usage the applications report over OpenTelemetry (spans, or the "
                <code>"gen_ai.client.token.usage"</code>
                " metric), priced with the API price table's row in force now. Total: "
                <strong>{if totals.is_empty() { "—".to_owned() } else { totals }}</strong> "."
            </p>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">"Service"</th>
                            <th scope="col">"Model"</th>
                            <th scope="col" class="numeric">
                                "Calls"
                            </th>
                            <th scope="col" class="numeric">
                                "Input tokens"
                            </th>
                            <th scope="col" class="numeric">
                                "Output tokens"
                            </th>
                            <th scope="col" class="numeric">
                                "Cost"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .models
                            .into_iter()
                            .map(|m| view! { <SpendRow model=m /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn SpendRow(model: ModelSpend) -> impl IntoView {
    let calls = match model.source {
        Source::Span => format_count(model.requests),
        Source::Metric => "—".to_owned(),
    };
    let input = if model.cached_input_tokens > 0 {
        format!(
            "{} ({} cached)",
            format_count(model.input_tokens),
            format_count(model.cached_input_tokens)
        )
    } else {
        format_count(model.input_tokens)
    };
    let cost = format_money_or_dash(model.cost, model.currency.as_deref().unwrap_or(""));
    let provider = if model.provider.is_empty() {
        String::new()
    } else {
        format!("{} · ", model.provider)
    };
    view! {
        <tr>
            <th scope="row">{model.service}</th>
            <td>{format!("{provider}{}", model.model)}</td>
            <td class="numeric">{calls}</td>
            <td class="numeric">{input}</td>
            <td class="numeric">{format_count(model.output_tokens)}</td>
            <td class="numeric" title=model.basis>
                {cost}
            </td>
        </tr>
    }
}
