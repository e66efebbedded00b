//! `pareto loadtest`: drives an inference endpoint at a fixed arrival rate and reports what it
//! answered: latency percentiles from a histogram, throughput, errors, tokens for a chat
//! completions endpoint and, for labelled inputs, accuracy. Given an experiment, the figures
//! become one of its runs, priced at the hardware named.
//!
//! The load is an open model: request i is due at i / rate seconds whatever came before it, and
//! its latency counts from when it was due, so a slow answer cannot hide the requests queued
//! behind it (no coordinated omission). At most `concurrency` requests are in flight; a request
//! that waits for a slot waits on its own clock.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hdrhistogram::Histogram;
use serde_json::Value;
use tokio::sync::Semaphore;

/// The most requests one run sends (each is a task until it is answered).
pub const MAX_REQUESTS: u64 = 10_000_000;

/// What a load test is asked.
#[derive(Debug, Clone)]
pub struct Plan {
    pub url: String,
    pub bodies: Vec<Input>,
    /// Requests a second.
    pub rate: f64,
    pub duration: Duration,
    pub concurrency: usize,
    pub timeout: Duration,
}

/// One line of the bodies file: the JSON sent and, when labelled, the answer expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    pub body: Value,
    pub label: Option<String>,
}

/// What the endpoint answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub sent: u64,
    pub ok: u64,
    /// Answers that were not 2xx, by status, and requests that got none (`0`).
    pub errors: Vec<(u16, u64)>,
    pub elapsed: Duration,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Mean prompt and completion tokens per answer, where the answers count them.
    pub tokens: Option<(f64, f64)>,
    /// Labelled answers that matched, of those labelled.
    pub correct: Option<(u64, u64)>,
}

impl Outcome {
    /// Answers a second over the whole run.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn error_count(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }

    pub fn accuracy(&self) -> Option<f64> {
        self.correct
            .filter(|(_, of)| *of > 0)
            .map(|(right, of)| right as f64 / of as f64)
    }
}

/// `200/s`, `200`, `12000/min`: requests a second, above 0 and at most 100,000.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let (number, per) = match text.split_once('/') {
        Some((number, unit)) => (
            number,
            match unit.trim() {
                "s" | "sec" | "second" => 1.0,
                "m" | "min" | "minute" => 60.0,
                other => {
                    return Err(format!(
                        "`{other}`: give the rate per s or per min, e.g. 200/s"
                    ))
                }
            },
        ),
        None => (text, 1.0),
    };
    let rate = number
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a rate: write it as 200/s"))?
        / per;
    if !(rate.is_finite() && rate > 0.0 && rate <= 100_000.0) {
        return Err(format!("`{text}`: a rate above 0 and at most 100,000/s"));
    }
    Ok(rate)
}

/// Reads the bodies, one JSON value a line; a line `{"body": …, "label": …}` is labelled. A bad
/// line is named by its number.
pub fn read_bodies(path: &Path) -> anyhow::Result<Vec<Input>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut inputs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|error| {
            anyhow::anyhow!("{}, line {}: not JSON: {error}", path.display(), index + 1)
        })?;
        let labelled = value
            .as_object()
            .filter(|o| o.contains_key("body") && o.len() <= 2)
            .map(|o| (o["body"].clone(), o.get("label").map(label_text)));
        inputs.push(match labelled {
            Some((body, label)) => Input { body, label },
            None => Input {
                body: value,
                label: None,
            },
        });
    }
    if inputs.is_empty() {
        bail!(
            "{} holds no request bodies: one JSON value a line",
            path.display()
        );
    }
    Ok(inputs)
}

fn label_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.trim().to_owned(),
        other => other.to_string(),
    }
}

/// What an answer says, as a label is compared with it: a chat completion's message, else a
/// `label`, `prediction` or `output` field, else the whole answer.
fn answer_text(answer: &Value) -> String {
    if let Some(content) = answer
        .pointer("/choices/0/message/content")
        .or_else(|| answer.pointer("/choices/0/text"))
    {
        return label_text(content);
    }
    for field in ["label", "prediction", "output", "generated_text"] {
        if let Some(value) = answer.get(field) {
            return label_text(value);
        }
    }
    label_text(answer)
}

/// Prompt and completion tokens of an OpenAI-compatible answer (`usage`).
fn tokens(answer: &Value) -> Option<(u64, u64)> {
    let usage = answer.get("usage")?;
    Some((
        usage.get("prompt_tokens")?.as_u64()?,
        usage.get("completion_tokens")?.as_u64()?,
    ))
}

/// Sends one request first, so that an endpoint that cannot be reached or answers badly is said
/// plainly before any load.
pub async fn check(client: &reqwest::Client, plan: &Plan) -> anyhow::Result<()> {
    let answer = client
        .post(&plan.url)
        .json(&plan.bodies[0].body)
        .send()
        .await
        .map_err(|error| anyhow::anyhow!("cannot reach {}: {}", plan.url, root_cause(&error)))?;
    let status = answer.status();
    if !status.is_success() {
        let text = answer.text().await.unwrap_or_default();
        let text: String = text.chars().take(200).collect();
        bail!(
            "{} answered the first request with {status}: {}",
            plan.url,
            text.trim()
        );
    }
    Ok(())
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

#[derive(Default)]
struct Tally {
    histogram: Option<Histogram<u64>>,
    ok: u64,
    errors: std::collections::BTreeMap<u16, u64>,
    tokens: (u64, u64, u64),
    correct: (u64, u64),
}

/// Runs the plan; `progress` is told each answer.
pub async fn run(
    client: &reqwest::Client,
    plan: &Plan,
    progress: impl Fn(u64) + Send + Sync + 'static,
) -> anyhow::Result<Outcome> {
    let total = (plan.rate * plan.duration.as_secs_f64()).round().max(1.0) as u64;
    let histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
        .context("making the latency histogram")?;
    let tally = Arc::new(Mutex::new(Tally {
        histogram: Some(histogram),
        ..Tally::default()
    }));
    let slots = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let progress = Arc::new(progress);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / plan.rate);
        tokio::time::sleep_until(due.into()).await;
        let input = plan.bodies[(i as usize) % plan.bodies.len()].clone();
        let (client, url, tally, slots, progress) = (
            client.clone(),
            plan.url.clone(),
            tally.clone(),
            slots.clone(),
            progress.clone(),
        );
        let timeout = plan.timeout;
        tasks.push(tokio::spawn(async move {
            let Ok(_slot) = slots.acquire().await else {
                return;
            };
            let answer = client
                .post(&url)
                .json(&input.body)
                .timeout(timeout)
                .send()
                .await;
            let (status, body) = match answer {
                Ok(answer) => {
                    let status = answer.status().as_u16();
                    (status, answer.json::<Value>().await.ok())
                }
                Err(_) => (0, None),
            };
            // From when it was due, not when it was sent.
            let micros = due.elapsed().as_micros().clamp(1, 3_600_000_000) as u64;
            let mut tally = tally
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if (200..300).contains(&status) {
                tally.ok += 1;
                if let Some(histogram) = tally.histogram.as_mut() {
                    let _ = histogram.record(micros);
                }
                if let Some(body) = &body {
                    if let Some((prompt, completion)) = tokens(body) {
                        tally.tokens.0 += prompt;
                        tally.tokens.1 += completion;
                        tally.tokens.2 += 1;
                    }
                    if let Some(label) = &input.label {
                        tally.correct.1 += 1;
                        if answer_text(body).eq_ignore_ascii_case(label) {
                            tally.correct.0 += 1;
                        }
                    }
                }
            } else {
                *tally.errors.entry(status).or_default() += 1;
            }
            let done = tally.ok + tally.errors.values().sum::<u64>();
            drop(tally);
            progress(done);
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed();
    let tally = tally
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let histogram = tally.histogram.as_ref();
    let at = |q: f64| {
        histogram
            .filter(|h| !h.is_empty())
            .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
    };
    Ok(Outcome {
        sent: total,
        ok: tally.ok,
        errors: tally.errors.iter().map(|(s, n)| (*s, *n)).collect(),
        elapsed,
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        max_ms: histogram.map_or(0.0, |h| h.max() as f64 / 1000.0),
        tokens: (tally.tokens.2 > 0).then(|| {
            let n = tally.tokens.2 as f64;
            (tally.tokens.0 as f64 / n, tally.tokens.1 as f64 / n)
        }),
        correct: (tally.correct.1 > 0).then_some(tally.correct),
    })
}

/// The report, as the command prints it.
pub fn report(plan: &Plan, outcome: &Outcome) -> String {
    let mut lines = vec![
        format!(
            "{} requests to {} at {}/s over {:.1} s: {} answered, {} errors",
            outcome.sent,
            plan.url,
            app::format::format_number(plan.rate),
            outcome.elapsed.as_secs_f64(),
            outcome.ok,
            outcome.error_count()
        ),
        format!(
            "latency (from when each request was due): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            outcome.p50_ms, outcome.p95_ms, outcome.p99_ms, outcome.max_ms
        ),
        format!("throughput: {:.1} answers/s", outcome.throughput()),
    ];
    if !outcome.errors.is_empty() {
        lines.push(format!(
            "errors: {}",
            outcome
                .errors
                .iter()
                .map(|(status, n)| if *status == 0 {
                    format!("{n} without an answer")
                } else {
                    format!("{n} × {status}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some((prompt, completion)) = outcome.tokens {
        lines.push(format!(
            "tokens per answer: {prompt:.1} prompt, {completion:.1} completion"
        ));
    }
    if let (Some(accuracy), Some((right, of))) = (outcome.accuracy(), outcome.correct) {
        lines.push(format!(
            "accuracy: {:.1}% ({right} of {of} labelled answers)",
            accuracy * 100.0
        ));
    }
    lines.join("\n")
}

/// The run fields an experiment stores from a load test: its latency, throughput, accuracy and
/// tokens, at the hardware named (`gpu_model`, `gpu_count`, `cpu_instance`, `hourly_price` as
/// the CSV columns take them).
pub fn run_fields(
    run_key: &str,
    outcome: &Outcome,
    hardware: &[(String, String)],
) -> std::collections::BTreeMap<String, String> {
    let mut fields: std::collections::BTreeMap<String, String> = [
        ("run_key", run_key.to_owned()),
        ("name", run_key.to_owned()),
        ("latency_p50_ms", format!("{:.3}", outcome.p50_ms)),
        ("latency_p95_ms", format!("{:.3}", outcome.p95_ms)),
        ("latency_p99_ms", format!("{:.3}", outcome.p99_ms)),
        ("throughput_rps", format!("{:.3}", outcome.throughput())),
        ("pricing", "self_hosted".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(accuracy) = outcome.accuracy() {
        fields.insert("accuracy".into(), format!("{accuracy:.4}"));
    }
    if let Some((prompt, completion)) = outcome.tokens {
        fields.insert("avg_input_tokens".into(), format!("{prompt:.1}"));
        fields.insert("avg_output_tokens".into(), format!("{completion:.1}"));
    }
    for (key, value) in hardware {
        fields.insert(key.clone(), value.clone());
    }
    fields
}

/// The command: checks the endpoint, runs the plan with a progress bar, prints the report and,
/// given an experiment, stores the figures as a run of it.
pub async fn command(args: crate::cli::LoadtestArgs) -> anyhow::Result<()> {
    let plan = Plan {
        url: args.url.clone(),
        bodies: read_bodies(&args.body)?,
        rate: args.rate,
        duration: args.duration.into(),
        concurrency: args.concurrency,
        timeout: args.timeout.into(),
    };
    let total = (plan.rate * plan.duration.as_secs_f64()).round();
    if total > MAX_REQUESTS as f64 {
        bail!(
            "{} requests is more than one run sends ({MAX_REQUESTS}): lower --rate or --duration",
            app::format::format_count(total as i64)
        );
    }
    let store = match (&args.experiment, &args.run_key) {
        (Some(experiment), Some(run_key)) => Some((experiment.clone(), run_key.clone())),
        (None, None) => None,
        _ => bail!("give --experiment and --run-key together, to store the figures as a run"),
    };
    let hardware = hardware_fields(&args);
    if store.is_some() && hardware.is_empty() {
        bail!("name the hardware the endpoint runs on (--gpu-model, or --cpu-instance with --hourly-price) so its run can be priced");
    }
    let client = reqwest::Client::builder()
        .timeout(plan.timeout)
        .build()
        .context("making the HTTP client")?;
    check(&client, &plan).await?;
    let total = (plan.rate * plan.duration.as_secs_f64()).round().max(1.0) as u64;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} answered, {elapsed} of the run",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let outcome = run(&client, &plan, move |done| shown.set_position(done)).await?;
    bar.finish_and_clear();
    println!("{}", report(&plan, &outcome));
    if outcome.ok == 0 {
        bail!("no request was answered: nothing to report");
    }
    if let Some((experiment, run_key)) = store {
        store_run(&experiment, &run_key, &outcome, &hardware).await?;
    }
    Ok(())
}

fn hardware_fields(args: &crate::cli::LoadtestArgs) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut put = |key: &str, value: &Option<String>| {
        if let Some(value) = value {
            fields.push((key.to_owned(), value.clone()));
        }
    };
    put("gpu_model", &args.gpu_model);
    put("gpu_count", &args.gpu_count.map(|n| n.to_string()));
    put("cpu_instance", &args.cpu_instance);
    put("hourly_price", &args.hourly_price);
    fields
}

async fn store_run(
    experiment: &str,
    run_key: &str,
    outcome: &Outcome,
    hardware: &[(String, String)],
) -> anyhow::Result<()> {
    let config = crate::config::Config::from_env()?;
    let pool = crate::db::connect(&config).await?;
    crate::db::migrate(&pool).await?;
    let experiment_id = app::experiments::store::id_by_name_or_id(&pool, experiment)
        .await?
        .with_context(|| format!("no experiment is named {experiment}"))?;
    let fields = run_fields(run_key, outcome, hardware);
    let spec = app::experiments::fields::run_from_fields(&fields).map_err(|problems| {
        anyhow::anyhow!(
            "the run cannot be stored: {}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        )
    })?;
    let added = app::experiments::store::add_runs(
        &pool,
        &app::audit::Actor::CommandLine,
        experiment_id,
        vec![spec],
    )
    .await
    .map_err(|error| anyhow::anyhow!("{}", app::error::AppError::from(error)))?;
    match added.first() {
        Some(run) if run.duplicate => {
            println!("run {run_key} was already stored with these figures")
        }
        _ => println!("stored as run {run_key} of experiment {experiment}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_per_second_or_minute() {
        assert_eq!(parse_rate("200/s"), Ok(200.0));
        assert_eq!(parse_rate("12000/min"), Ok(200.0));
        assert_eq!(parse_rate("50"), Ok(50.0));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("fast")
            .expect_err("not a rate")
            .contains("200/s"));
        assert!(parse_rate("5/h").is_err());
    }

    #[test]
    fn an_answer_reads_as_a_chat_completion_or_a_labelled_field() {
        let chat = serde_json::json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": " positive "}}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 3, "total_tokens": 45}
        });
        assert_eq!(answer_text(&chat), "positive");
        assert_eq!(tokens(&chat), Some((42, 3)));
        assert_eq!(answer_text(&serde_json::json!({"label": 1})), "1");
        assert_eq!(tokens(&serde_json::json!({"label": 1})), None);
    }

    #[test]
    fn bodies_are_one_json_a_line_and_a_bad_line_is_named() {
        let dir = std::env::temp_dir().join(format!("pareto-loadtest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("good.jsonl");
        std::fs::write(
            &good,
            "{\"text\": \"great\"}\n\n{\"body\": {\"text\": \"awful\"}, \"label\": \"negative\"}\n",
        )
        .expect("write");
        let inputs = read_bodies(&good).expect("read");
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0].label, None);
        assert_eq!(inputs[1].label.as_deref(), Some("negative"));
        assert_eq!(inputs[1].body["text"], "awful");
        let bad = dir.join("bad.jsonl");
        std::fs::write(&bad, "{\"text\": 1}\n{oops\n").expect("write");
        let error = read_bodies(&bad).expect_err("bad line").to_string();
        assert!(error.contains("line 2: not JSON"), "{error}");
    }
}
