//! The frontier chart: quality against cost or latency, drawn on the server.

use leptos::prelude::*;
use uuid::Uuid;

use crate::components::Toggle;

#[component]
pub(super) fn Frontier(id: Uuid) -> impl IntoView {
    let axis = RwSignal::new("cost");
    let base = move || format!("/charts/experiments/{id}/frontier.svg?x={}", axis.get());
    let description = move || {
        if axis.get() == "cost" {
            "Quality against cost per 1,000 requests: runs on the frontier are joined by the line; dominated runs are grey; the recommended run is ringed."
        } else {
            "Quality against p95 latency: runs on the frontier are joined by the line; dominated runs are grey; the recommended run is ringed."
        }
    };
    view! {
        <figure class="card chart frontier">
            <figcaption>
                <div class="card-head">
                    <h2>"Pareto frontier"</h2>
                    <Toggle
                        label="Against"
                        value=axis
                        options=&[("cost", "Cost"), ("latency", "Latency")]
                    />
                </div>
                <p class="muted small">{description}</p>
            </figcaption>
            <picture>
                <source
                    media="(prefers-color-scheme: dark)"
                    srcset=move || format!("{}&theme=dark", base())
                />
                <img
                    src=move || format!("{}&theme=light", base())
                    alt=description
                    width="720"
                    height="360"
                    loading="lazy"
                />
            </picture>
        </figure>
    }
}
