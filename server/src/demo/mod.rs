//! `pareto demo`: a small, believable organization, so that a newcomer sees Pareto in use.
//! Each capability adds its part here, in a file of its own.

mod alerts;
mod bills;
mod catalog;
mod drift;
mod experiments;
mod fleet;
mod genai;
mod guardrails;
mod pipelines;
mod reports;

use anyhow::Context;
use sqlx::PgPool;

use crate::commands::reason;
use app::audit::Actor;
use app::auth::Role;
use app::tokens::Scope;
use app::users::NewUser;
use app::{teams, tokens, users};

struct DemoTeam {
    name: &'static str,
    description: &'static str,
}

const TEAMS: &[DemoTeam] = &[
    DemoTeam {
        name: "Fraud Detection",
        description: "Card and account fraud scoring, real time.",
    },
    DemoTeam {
        name: "Search & Ranking",
        description: "Product search, query understanding and ranking.",
    },
    DemoTeam {
        name: "Forecasting",
        description: "Demand and capacity forecasts, batch.",
    },
    DemoTeam {
        name: "ML Platform",
        description: "GPU fleet, serving infrastructure and shared tooling.",
    },
];

/// (email, name, role, teams)
const PEOPLE: &[(&str, &str, Role, &[&str])] = &[
    (
        "ada@example.com",
        "Ada Okafor",
        Role::Admin,
        &["ML Platform"],
    ),
    (
        "grace@example.com",
        "Grace Lindqvist",
        Role::Lead,
        &["Fraud Detection"],
    ),
    (
        "ken@example.com",
        "Ken Watanabe",
        Role::Lead,
        &["Search & Ranking", "ML Platform"],
    ),
    (
        "maria@example.com",
        "María Fernández",
        Role::Member,
        // She also works on the support assistant, which ML Platform owns.
        &["Fraud Detection", "ML Platform"],
    ),
    (
        "sam@example.com",
        "Sam Patel",
        Role::Member,
        &["Search & Ranking"],
    ),
    (
        "lena@example.com",
        "Lena Schmidt",
        Role::Member,
        &["Forecasting"],
    ),
    (
        "tom@example.com",
        "Tom Becker",
        Role::Viewer,
        &["Forecasting"],
    ),
    ("finance@example.com", "Priya Raman", Role::Viewer, &[]),
];

/// (name, scopes, team). A token bound to a team acts only for it: a pipeline writes its own
/// team's experiments. The fleet's hosts serve every team's models, so their tokens are bound to none.
const TOKENS: &[(&str, &[Scope], &str)] = &[
    ("gpu-node-17", &[Scope::Ingest], ""),
    ("gpu-node-18", &[Scope::Ingest], ""),
    (
        "fraud-training-pipeline",
        &[Scope::Write, Scope::Read],
        "Fraud Detection",
    ),
    ("finance-reports", &[Scope::Read], "ML Platform"),
    // Finance's monthly export job; bound to no team.
    ("finance-bill-imports", &[Scope::Bills], ""),
];

pub async fn load(pool: &PgPool, password: Option<String>) -> anyhow::Result<()> {
    if teams::store::id_by_name(pool, TEAMS[0].name).await.is_ok() {
        println!("The demo organization is already loaded; nothing changed.");
        return Ok(());
    }
    let password = match password.as_deref() {
        Some("-") => crate::commands::read_secret("Password for the demo accounts: ")?,
        Some(given) => given.to_owned(),
        None => app::auth::secret::random_token("demo")
            .chars()
            .skip(5)
            .take(16)
            .collect(),
    };
    if let Some(problem) = app::auth::password_problem(&password) {
        anyhow::bail!("--password: {problem}");
    }
    let actor = Actor::CommandLine;
    let mut team_ids = Vec::new();
    for team in TEAMS {
        let id = teams::store::create(pool, &actor, team.name, team.description)
            .await
            .map_err(reason)
            .with_context(|| format!("creating team {}", team.name))?;
        team_ids.push((team.name, id));
    }
    let team_id = |name: &str| team_ids.iter().find(|(n, _)| *n == name).map(|(_, id)| *id);
    let mut created_people = 0;
    for (email, name, role, member_of) in PEOPLE {
        let user_id = match users::store::id_by_email(pool, email).await {
            Ok(existing) => existing,
            Err(_) => {
                let user =
                    NewUser::parse(email, name, &password, None, role.as_str()).map_err(reason)?;
                created_people += 1;
                users::store::create(pool, &actor, user)
                    .await
                    .map_err(reason)?
                    .user_id
            }
        };
        for team in *member_of {
            if let Some(team_id) = team_id(team) {
                teams::store::add_member(pool, &actor, team_id, user_id)
                    .await
                    .map_err(reason)?;
            }
        }
    }
    for (name, scopes, team) in TOKENS {
        if tokens::store::id_by_name(pool, name).await.is_err() {
            tokens::store::create(pool, &actor, name, scopes, team_id(team))
                .await
                .map_err(reason)?;
        }
    }
    let samples = fleet::load(pool)
        .await
        .context("loading the demo fleet's telemetry")?;
    let hosted_calls = genai::load(pool)
        .await
        .context("loading the demo's hosted-model calls")?;
    let runs = experiments::load(pool, team_id)
        .await
        .context("loading the demo experiments")?;
    let models = catalog::load(pool)
        .await
        .context("describing the demo models")?;
    let bill_rows = bills::load(pool).await.context("loading the demo bills")?;
    let drift = drift::load(pool).await.context("loading the demo drift")?;
    let entries = reports::load(pool)
        .await
        .context("entering the demo's engineering time and value")?;
    let pipelines = pipelines::load(pool, team_id)
        .await
        .context("adding the demo pipeline")?;
    let guardrails = guardrails::load(pool)
        .await
        .context("writing the demo guardrails")?;
    let alerts = alerts::load(pool)
        .await
        .context("setting the demo budgets")?;
    println!(
        "Loaded the demo organization: {} teams, {} people, {} API tokens, {samples} telemetry \
         samples from 6 GPU hosts over three weeks (one a Kubernetes node with MIG slices and a GPU \
         no deployment uses) and a CPU machine, {hosted_calls} calls to hosted language models \
         reported over OpenTelemetry by three applications, {} experiments with {runs} candidate runs (one \
         priced per token from the API price table, two made from another by int8 quantization and \
         distillation), {pipelines} pipeline (retrieval, then ranking) and a budget portfolio \
         across three teams, \
         a catalog of {models} models with their cards, three months of AWS and GCP bills \
         ({bill_rows} rows), {drift} drift measurements (the recommender drifts while its cost \
         rises, and its retraining is due), {entries} TCO entries (engineering time, value delivered), {guardrails} guardrails \
         (one breached, one breach waived), and budgets for every team ({alerts} alerts fired).",
        TEAMS.len(),
        created_people,
        TOKENS.len(),
        experiments::count()
    );
    println!(
        "Sign in as ada@example.com (admin), grace@example.com (lead), maria@example.com (member)"
    );
    println!("or tom@example.com (viewer), each with the password: {password}");
    Ok(())
}

/// A demo person acting in their own name, as when they sign in.
async fn person(pool: &PgPool, email: &str) -> anyhow::Result<Actor> {
    let user_id = users::store::id_by_email(pool, email)
        .await
        .map_err(reason)?;
    let user = users::store::get(pool, user_id).await.map_err(reason)?;
    Ok(Actor::User(app::auth::CurrentUser {
        user_id,
        email: user.email,
        display_name: user.display_name,
        role: user.role,
    }))
}
