//! `pareto-agent`: reads GPU use (nvidia-smi or DCGM) and inference traffic (Prometheus pages) on a
//! GPU host, and posts it to Pareto's `/api/v1/telemetry`, durably, through a spool.

// The same clock as the server's, so that `PARETO_NOW` moves a test run's agent along with it.
#[path = "../../app/src/clock.rs"]
mod clock;
mod config;
mod cpu;
mod exposition;
mod sources;
mod spool;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

use config::{Config, Overrides, Source};
use sources::{Counters, GpuReading, Pod, Traffic};
use spool::{Spool, Written};

#[derive(Debug, Parser)]
#[command(
    name = "pareto-agent",
    version,
    about = "Reports GPU use and inference traffic to Pareto"
)]
struct Cli {
    /// TOML configuration file
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Pareto's URL, e.g. https://pareto.example.com
    #[arg(long)]
    server: Option<String>,
    /// API token with the `ingest` scope (or PARETO_AGENT_TOKEN)
    #[arg(long)]
    token: Option<String>,
    /// Seconds between readings
    #[arg(long)]
    interval: Option<u64>,
    /// Host name to report (default: this machine's)
    #[arg(long)]
    host: Option<String>,
    #[arg(long, value_enum)]
    source: Option<Source>,
    /// Path of nvidia-smi
    #[arg(long)]
    nvidia_smi: Option<PathBuf>,
    #[arg(long)]
    spool_dir: Option<PathBuf>,
    /// GPU index or UUID = deployment key; repeatable
    #[arg(long = "deployment", value_parser = parse_mapping)]
    deployments: Vec<(String, String)>,
    /// Take one reading, send it and exit
    #[arg(long)]
    once: bool,
    /// With --once: print the batch instead of sending it
    #[arg(long, requires = "once")]
    dry_run: bool,
}

fn parse_mapping(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((gpu, key)) if !gpu.trim().is_empty() && !key.trim().is_empty() => {
            Ok((gpu.trim().to_owned(), key.trim().to_owned()))
        }
        _ => Err(format!(
            "`{text}` is not GPU=DEPLOYMENT, e.g. 0=fraud-lgbm-v3"
        )),
    }
}

/// The state that carries from one reading to the next.
struct Collector {
    config: Config,
    http: reqwest::Client,
    previous: HashMap<String, Counters>,
    last_reading: Option<Instant>,
    /// The DCGM page's host name, used when the config names no host.
    dcgm_host: Option<String>,
    warned_unmapped: std::collections::BTreeSet<String>,
    /// The CPU counters of the previous reading, for the next one's differences.
    cpu_previous: Option<cpu::Snapshot>,
}

impl Collector {
    async fn gpus(&mut self) -> anyhow::Result<Vec<GpuReading>> {
        match self.config.source {
            Source::None => Ok(Vec::new()),
            Source::NvidiaSmi => sources::run_nvidia_smi(&self.config.nvidia_smi).await,
            Source::Dcgm => {
                let page = self
                    .http
                    .get(&self.config.dcgm_url)
                    .send()
                    .await?
                    .error_for_status()?
                    .text()
                    .await?;
                let (gpus, host) = sources::read_dcgm(&page)?;
                self.dcgm_host = host;
                Ok(gpus)
            }
        }
    }

    /// What each deployment's inference server did since the previous reading.
    async fn traffic(&mut self) -> HashMap<String, Traffic> {
        let mut traffic = HashMap::new();
        for inference in self.config.inference.clone() {
            let page = match self
                .http
                .get(&inference.url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
            {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(error) => {
                    tracing::warn!(deployment = %inference.deployment, %error, "cannot read the inference metrics");
                    continue;
                }
            };
            let current = match inference.metrics().and_then(|metrics| {
                sources::parse_inference(&page, &metrics, inference.model.as_deref())
                    .map(|counters| (metrics, counters))
            }) {
                Ok(current) => current,
                Err(error) => {
                    tracing::warn!(deployment = %inference.deployment, %error, "cannot use the inference metrics");
                    continue;
                }
            };
            let (metrics, current) = current;
            if let Some(previous) = self.previous.get(&inference.deployment) {
                traffic.insert(
                    inference.deployment.clone(),
                    sources::interval(previous, &current, metrics.latency_unit),
                );
            }
            self.previous.insert(inference.deployment.clone(), current);
        }
        traffic
    }

    /// One reading of every mapped GPU, as a batch body.
    async fn batch(&mut self) -> anyhow::Result<(String, Value)> {
        let gpus = self.gpus().await?;
        let traffic = self.traffic().await;
        let now = Instant::now();
        let interval_s = self
            .last_reading
            .map_or(self.config.interval.as_secs_f64(), |last| {
                now.duration_since(last).as_secs_f64()
            });
        self.last_reading = Some(now);
        let ts = clock::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let host = match (&self.dcgm_host, self.config.host_given) {
            (Some(host), false) => host.clone(),
            _ => self.config.host.clone(),
        };
        let mut gpus: Vec<(GpuReading, Option<String>)> = gpus
            .into_iter()
            .map(|gpu| {
                let deployment = self.config.deployment_of(&gpu);
                (gpu, deployment)
            })
            .collect();
        if let Some(config) = self.config.cpu.clone() {
            gpus.extend(self.cpu(&config, &host, interval_s)?);
        }
        let mapped: Vec<(&GpuReading, String)> = gpus
            .iter()
            .filter_map(|(gpu, d)| d.clone().map(|d| (gpu, d)))
            .collect();
        let gpus: Vec<&GpuReading> = gpus.iter().map(|(gpu, _)| gpu).collect();
        let interval_s = (interval_s * 1000.0).round() / 1000.0;
        let mut samples = Vec::new();
        for gpu in gpus
            .iter()
            .filter(|g| !mapped.iter().any(|(m, _)| m.uuid == g.uuid))
        {
            if gpu.cpu_cores.is_none() && self.warned_unmapped.insert(gpu.uuid.clone()) {
                tracing::info!(index = gpu.index, uuid = %gpu.uuid, pod = gpu.pod.as_ref().map(Pod::name).unwrap_or_default(), "GPU has no deployment in the config or its rules; reported as the host's idle capacity");
            }
            samples.push(device_sample(gpu, &ts, interval_s));
        }
        for (gpu, deployment) in &mapped {
            let siblings: Vec<&str> = mapped
                .iter()
                .filter(|(_, d)| d == deployment)
                .map(|(g, _)| g.uuid.as_str())
                .collect();
            let served = traffic.get(deployment).cloned().unwrap_or_default();
            let position = siblings
                .iter()
                .position(|uuid| *uuid == gpu.uuid)
                .unwrap_or_default();
            let share = |count: i64| split(count, siblings.len())[position];
            let mut sample = device_sample(gpu, &ts, interval_s);
            sample["deployment"] = json!(deployment);
            sample["requests"] = json!(share(served.requests));
            if let Some(latency) = served.latency {
                sample["latency_ms"] = latency.json();
            }
            if let Some(ttft) = served.time_to_first_token {
                sample["ttft_ms"] = ttft.json();
            }
            if let Some(tokens) = served.tokens {
                let inputs = split(tokens.input, siblings.len());
                sample["input_tokens"] = json!(inputs[position]);
                sample["output_tokens"] = json!(share(tokens.output));
                sample["cached_input_tokens"] =
                    json!(split_within(tokens.cached_input, &inputs)[position]);
            }
            samples.push(sample);
        }
        let batch_id = uuid::Uuid::new_v4().to_string();
        Ok((
            batch_id.clone(),
            json!({ "batch_id": batch_id, "host": host, "samples": samples }),
        ))
    }
}

impl Collector {
    /// The CPU machine's allotments since the previous reading (none at the first: counters need
    /// two readings). A deployment that cannot be read is logged and left out this time.
    fn cpu(
        &mut self,
        config: &cpu::CpuConfig,
        host: &str,
        interval_s: f64,
    ) -> anyhow::Result<Vec<(GpuReading, Option<String>)>> {
        let (current, problems) = cpu::snapshot(config)?;
        for problem in problems {
            tracing::warn!(%problem, "cannot read a CPU deployment");
        }
        let devices = match &self.cpu_previous {
            Some(previous) => cpu::readings(config, host, previous, &current, interval_s),
            None => Vec::new(),
        };
        self.cpu_previous = Some(current);
        Ok(devices)
    }
}

/// What a device reads, as a sample with no deployment and no requests: a GPU no deployment uses
/// is sent so, as its host's idle capacity; a mapped one gains its deployment and traffic.
fn device_sample(gpu: &GpuReading, ts: &str, interval_s: f64) -> Value {
    let mut sample = json!({
        "ts": ts,
        "gpu_uuid": gpu.uuid,
        "gpu_index": gpu.index,
        "gpu_model": gpu.model,
        "interval_s": interval_s,
        "utilization_pct": gpu.utilization_pct,
        "memory_used_mib": gpu.memory_used_mib,
        "power_watts": gpu.power_watts,
        "requests": 0,
    });
    if let Some(slice) = &gpu.slice {
        sample["gpu_share"] = json!(slice.share);
        // The server refuses empty names: a label the exporter left blank is not sent.
        if !slice.parent_uuid.is_empty() {
            sample["parent_gpu_uuid"] = json!(slice.parent_uuid);
        }
        if !slice.profile.is_empty() {
            sample["mig_profile"] = json!(slice.profile);
        }
    }
    if let Some(pod) = gpu.pod.as_ref().filter(|p| !p.pod.is_empty()) {
        sample["pod"] = json!(pod.name());
    }
    if let Some(cores) = gpu.cpu_cores {
        sample["cpu_cores"] = json!(cores);
    }
    sample
}

/// A deployment's count shared evenly by its `devices`; the first takes the remainder.
fn split(count: i64, devices: usize) -> Vec<i64> {
    let devices = devices.max(1);
    let each = count / devices as i64;
    let mut parts = vec![each; devices];
    parts[0] += count % devices as i64;
    parts
}

/// Cached tokens shared so that each device's stay within its own input, in device order: all of
/// them are handed out whenever they are at most the whole input.
fn split_within(cached: i64, inputs: &[i64]) -> Vec<i64> {
    let mut left = cached.max(0);
    inputs
        .iter()
        .map(|input| {
            let part = left.min(*input);
            left -= part;
            part
        })
        .collect()
}

/// What one attempt to deliver a batch came to.
enum Delivery {
    Stored,
    /// Try again later: after the server's Retry-After, when it sent one.
    Retry(Option<Duration>, String),
    /// The server does not take this agent's token (401, 403): the batch stays in the spool and
    /// is tried again, since a rotated or re-scoped token is fixed by a person, not by waiting.
    Denied(String),
    /// The server refused the batch itself for good (400, 409, 413, 422).
    Refused(String),
}

/// What an answer's status says about the batch that was sent.
fn classify(status: u16, retry_after: Option<Duration>, answer: String) -> Delivery {
    match status {
        200..=299 => Delivery::Stored,
        // Only these say the batch is wrong; anything else (408, 429, 5xx, a proxy's 404 while
        // the server is being deployed) is about the moment, and the batch waits in the spool.
        400 | 409 | 413 | 422 => Delivery::Refused(answer),
        401 | 403 => Delivery::Denied(answer),
        _ => Delivery::Retry(retry_after, answer),
    }
}

async fn deliver(http: &reqwest::Client, config: &Config, body: &[u8]) -> Delivery {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    if gzip.write_all(body).is_err() {
        return Delivery::Retry(None, "compression failed".into());
    }
    let compressed = match gzip.finish() {
        Ok(bytes) => bytes,
        Err(error) => return Delivery::Retry(None, error.to_string()),
    };
    let response = http
        .post(format!("{}/api/v1/telemetry", config.server))
        .bearer_auth(&config.token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::CONTENT_ENCODING, "gzip")
        .body(compressed)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => return Delivery::Retry(None, error.to_string()),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let answer = format!("{status}: {}", response.text().await.unwrap_or_default());
    classify(status.as_u16(), retry_after, answer)
}

/// What a flush of the spool came to.
#[derive(Default)]
struct Flushed {
    /// Set when the server is not taking batches now: how long it asked to wait, and why.
    retry: Option<(Option<Duration>, String)>,
    /// Batches the server refused for good, now in `rejected/`.
    refused: usize,
}

/// Sends the spooled batches, oldest first, until the spool is empty or the server is not
/// taking them.
async fn flush(http: &reqwest::Client, config: &Config, spool: &Spool) -> anyhow::Result<Flushed> {
    let mut flushed = Flushed::default();
    for path in spool.pending()? {
        let body =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        match deliver(http, config, &body).await {
            Delivery::Stored => spool.remove(&path)?,
            Delivery::Refused(answer) => {
                let kept = spool.reject(&path, &answer)?;
                flushed.refused += 1;
                tracing::error!(batch = %kept.display(), %answer, "the server refused a batch; it is kept with the answer");
            }
            Delivery::Retry(after, reason) => {
                flushed.retry = Some((after, reason));
                break;
            }
            Delivery::Denied(answer) => {
                tracing::error!(
                    %answer,
                    pending = spool.pending().map(|p| p.len()).unwrap_or(0),
                    "THE SERVER DOES NOT ACCEPT THIS AGENT'S TOKEN: batches stay in the spool and are retried; give the agent a valid token with the ingest scope"
                );
                flushed.retry = Some((None, answer));
                break;
            }
        }
    }
    Ok(flushed)
}

/// Exponential backoff with jitter: about 1 s, 2 s, 4 s … up to a minute.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.min(6)).min(Duration::from_secs(60));
    base.mul_f64(rand::random_range(0.5..1.5))
}

async fn sender(http: reqwest::Client, config: Config, spool: Arc<Spool>, wake: Arc<Notify>) {
    let mut attempt = 0;
    loop {
        match flush(&http, &config, &spool).await.map(|f| f.retry) {
            Ok(None) => {
                attempt = 0;
                wake.notified().await;
            }
            Ok(Some((after, reason))) => {
                let wait = after.unwrap_or_else(|| backoff(attempt));
                attempt += 1;
                tracing::warn!(%reason, wait_s = wait.as_secs_f64(), pending = spool.pending().map(|p| p.len()).unwrap_or(0), "sending failed; will retry");
                tokio::time::sleep(wait).await;
            }
            Err(error) => {
                tracing::error!(%error, "the spool cannot be read");
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

fn spool_batch(spool: &Spool, batch_id: &str, body: &Value) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(body)?;
    match spool.write(Utc::now().timestamp_millis(), batch_id, &bytes)? {
        Written::Spooled => Ok(()),
        Written::Full => {
            tracing::error!(
                samples = body["samples"].as_array().map_or(0, Vec::len),
                "THE SPOOL IS FULL: this reading is dropped. Pareto has been unreachable for a long time, or spool_max_mib is too small."
            );
            Ok(())
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let file = match &cli.config {
        Some(path) => config::read_file(path)?,
        None => config::FileConfig::default(),
    };
    let overrides = Overrides {
        server: cli.server,
        token: cli.token,
        interval_s: cli.interval,
        host: cli.host,
        source: cli.source,
        nvidia_smi: cli.nvidia_smi,
        spool_dir: cli.spool_dir,
        deployments: cli.deployments,
    };
    let config = Config::resolve(
        file,
        overrides,
        std::env::var("PARETO_AGENT_TOKEN").ok(),
        cli.dry_run,
    )?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent(concat!("pareto-agent/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut collector = Collector {
        config: config.clone(),
        http: http.clone(),
        previous: HashMap::new(),
        last_reading: None,
        dcgm_host: None,
        warned_unmapped: Default::default(),
        cpu_previous: None,
    };

    if cli.once {
        if config.cpu.is_some() {
            // CPU counters need two readings: the first sets the baseline a second later.
            collector.batch().await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let (batch_id, body) = collector.batch().await?;
        if body["samples"].as_array().is_none_or(Vec::is_empty) {
            anyhow::bail!("nothing to report: no GPU, and no CPU deployment could be read");
        }
        if cli.dry_run {
            println!("{}", serde_json::to_string_pretty(&body)?);
            return Ok(ExitCode::SUCCESS);
        }
        let spool = Spool::open(&config.spool_dir, config.spool_max_bytes)?;
        spool_batch(&spool, &batch_id, &body)?;
        let flushed = flush(&http, &config, &spool).await?;
        return Ok(match (flushed.retry, flushed.refused) {
            (None, 0) => ExitCode::SUCCESS,
            (Some((_, reason)), _) => {
                eprintln!("pareto-agent: not sent, kept in the spool: {reason}");
                ExitCode::FAILURE
            }
            (None, refused) => {
                eprintln!(
                    "pareto-agent: the server refused {refused} batch(es); see {}",
                    config.spool_dir.join("rejected").display()
                );
                ExitCode::FAILURE
            }
        });
    }

    let spool = Arc::new(Spool::open(&config.spool_dir, config.spool_max_bytes)?);
    let wake = Arc::new(Notify::new());
    tokio::spawn(sender(http, config.clone(), spool.clone(), wake.clone()));
    tracing::info!(server = %config.server, host = %config.host, interval_s = config.interval.as_secs(), "reporting");
    let mut ticks = tokio::time::interval(config.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Registered once, so that a signal arriving while a reading is taken is not missed.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                match collector.batch().await {
                    // A CPU machine's first reading only sets its counters' baseline.
                    Ok((_, body)) if body["samples"].as_array().is_none_or(Vec::is_empty) => {
                        tracing::debug!("nothing to report this time");
                    }
                    Ok((batch_id, body)) => {
                        spool_batch(&spool, &batch_id, &body)?;
                        wake.notify_one();
                    }
                    Err(error) => tracing::warn!(%error, "no reading this time"),
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    tracing::info!(
        pending = spool.pending().map(|p| p.len()).unwrap_or(0),
        "stopping; unsent batches stay in the spool"
    );
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PARETO_AGENT_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pareto-agent: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pareto-agent: {}", format!("{error:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_shared_by_a_deployments_devices_without_losing_any() {
        assert_eq!(split(10, 3), [4, 3, 3]);
        assert_eq!(split(7, 0), [7], "no device: one share");
        // 6 input tokens over 3 devices (2 each), 5 of them cached: every cached token is handed
        // out, none past its device's input.
        let inputs = split(6, 3);
        assert_eq!(split_within(5, &inputs), [2, 2, 1]);
        assert_eq!(split_within(9, &inputs), [2, 2, 2]);
    }
}
