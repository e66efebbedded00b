//! The guide's page: each exercise a card of steps, each step a link to the live page it is done
//! on and what to look for there.

use leptos::prelude::*;
use leptos_meta::Title;

use super::GuideLinks;
use crate::components::{Loaded, PageHeader};

/// One step: what to do (with the page it is done on) and what it teaches.
struct Step {
    href: String,
    action: &'static str,
    lesson: &'static str,
}

fn step(href: impl Into<String>, action: &'static str, lesson: &'static str) -> Step {
    Step {
        href: href.into(),
        action,
        lesson,
    }
}

#[component]
pub fn GuidePage() -> impl IntoView {
    let links = Resource::new(|| (), |_| super::load_guide());
    view! {
        <Title text="Guide · Pareto" />
        <PageHeader
            title="A guide to cost-aware design"
            lead="Three exercises on the demo organization, each on the live pages: choose a model under a quality and latency SLA, redesign a two-stage recommender for peak traffic, and govern the choices a team makes. Every figure you meet can explain itself: open the “how?” beside it."
        />
        <Loaded resource=links children=|links| view! { <Exercises links=links /> } />
    }
}

#[component]
fn Exercises(links: GuideLinks) -> impl IntoView {
    let experiment = |id: Option<uuid::Uuid>| {
        id.map_or_else(
            || "/experiments".to_owned(),
            |id| format!("/experiments/{id}"),
        )
    };
    let sentiment = experiment(links.sentiment);
    let fraud = experiment(links.fraud);
    let pipeline = links
        .pipeline
        .map_or_else(|| "/pipelines".to_owned(), |id| format!("/pipelines/{id}"));
    let portfolio = links
        .portfolio
        .clone()
        .map_or_else(|| "/portfolio".to_owned(), |q| format!("/portfolio?{q}"));
    let model = links
        .model
        .map_or_else(|| "/catalog".to_owned(), |id| format!("/models/{id}"));
    let demo = links.sentiment.is_some() && links.pipeline.is_some();
    let classifier = vec![
        step(
            sentiment.clone(),
            "Open the Review sentiment experiment and read its recommendation.",
            "The SLA (F1 ≥ 0.90, p95 ≤ 150 ms) rules candidates out before cost ranks the rest: the cheapest that meets every constraint wins, not the most accurate. BERT-base is better and costs three times as much.",
        ),
        step(
            sentiment.clone(),
            "Open “how?” beside a run's cost per 1,000 requests.",
            "A self-hosted run costs its machine's hour divided by the requests it serves in that hour; the price comes from the GPU catalog, dated. At low volume the always-on machine, not the requests, sets the bill.",
        ),
        step(
            sentiment.clone(),
            "Move the decision matrix's weights, then read the volume what-if and the cascade.",
            "Weights change the ranking, not the SLA. The hosted model is cheaper below some volume and dearer above it; a cascade sends the unsure quarter of requests to it and keeps most of its quality for a fraction of its cost.",
        ),
        step(
            fraud,
            "Open Card-fraud scoring and find “What compression bought”.",
            "int8 quantization with TensorRT moved the ensemble from an A100 to an L4 for half a point of precision; distillation onto CPU machines saved more and cost more. The frontier draws each as a dashed line from its parent.",
        ),
        step(
            format!("{sentiment}/report.html"),
            "Print the evaluation report (or save it as PDF).",
            "The decision written down for others to sign: the question, the candidates, the matrix, the frontier, when another candidate would win, the assumptions with their dates, and the sign-off from the review gate.",
        ),
    ];
    let recommender = vec![
        step(
            pipeline.clone(),
            "Open the Product search pipeline: retrieval, then ranking.",
            "The SLA, the traffic and the bill belong to the pipeline: each stage is priced at the items it scores, and the latency of the whole is combined from the stages' distributions, below the sum of their p95s.",
        ),
        step(
            pipeline.clone(),
            "Read the bottleneck stage and the frontier; open “how?” beside the p95.",
            "The bottleneck is the stage with the largest share of the mean latency: that is where a faster candidate buys the most headroom. A combination measured end to end wins over the last stage's own figure.",
        ),
        step(
            pipeline.clone(),
            "Redesign for peak traffic: as a lead, open “Change the pipeline”, triple the requests a month and tighten the p95 to 50 ms.",
            "At three times the traffic the always-on floors are shared by more requests and the answer can change; a tighter p95 rules out slow combinations first. Compare the cost per 1,000 before and after.",
        ),
        step(
            pipeline,
            "Route 10% of requests to the heavier ranker with hybrid routing.",
            "Sending only the high-value share to the heavy candidate buys most of its quality for a fraction of its cost; the latency is the mixture of the two paths, not their average.",
        ),
    ];
    let governance = vec![
        step(
            "/catalog/tiers",
            "Read the tier rules, then the catalog.",
            "Tier 1 is low cost and fast, Tier 3 accurate and expensive: a model's tier follows from its measured cost and latency, so a new version that costs more moves up a tier by itself.",
        ),
        step(
            "/reviews",
            "Open the review queue.",
            "Expensive choices wait for a lead: the gate compares a version's cost with what it replaces, and the approval becomes the report's sign-off.",
        ),
        step(
            "/guardrails",
            "Read the guardrails and the breach waived with a reason.",
            "Rules with money on them (utilization, cost per 1,000, team budgets): a breach raises an alert and makes the gate ask for a lead, and a waiver has a reason and an end date.",
        ),
        step(
            model,
            "Open the recommender's model page and its card.",
            "Cost sits beside drift: the two-tower model drifts while its cost rises, and its retraining is due when the quality it has lost is worth more than retraining costs.",
        ),
        step(
            portfolio,
            "Open the saved portfolio “Q1 across three teams”.",
            "Choosing across experiments: within one budget, the fraud model's larger candidate pays for itself many times over, while sentiment keeps its own choice. Download it as a spreadsheet for the budget meeting.",
        ),
    ];
    view! {
        {(!demo)
            .then(|| {
                view! {
                    <div class="notice" role="note">
                        "The exercises use the demo organization. Load it into this database with "
                        <code>"pareto demo"</code>
                        "; until then the links open the lists the exercises start from."
                    </div>
                }
            })}
        <Exercise
            number=1
            title="Choose a classifier under an F1 and latency SLA"
            steps=classifier
        />
        <Exercise
            number=2
            title="Redesign a two-stage recommender for peak traffic"
            steps=recommender
        />
        <Exercise
            number=3
            title="Govern the choices: tiers, the review gate, guardrails, budgets"
            steps=governance
        />
    }
}

#[component]
fn Exercise(number: u8, title: &'static str, steps: Vec<Step>) -> impl IntoView {
    let heading = format!("exercise-{number}");
    view! {
        <section class="card guide" aria-labelledby=heading.clone()>
            <h2 id=heading.clone()>{format!("{number}. {title}")}</h2>
            <ol class="guide-steps">
                {steps
                    .into_iter()
                    .map(|s| {
                        view! {
                            <li>
                                <a href=s.href>{s.action}</a>
                                <p class="muted">{s.lesson}</p>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
    }
}
