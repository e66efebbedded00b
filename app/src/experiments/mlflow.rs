//! Runs imported from an MLflow tracking server through its REST API
//! (`experiments/get-by-name`, `runs/search` with paging, `model-versions/search`), mapped to
//! Pareto's run fields by a mapping the user can edit, idempotent by MLflow run id
//! (`run_key` = `mlflow-<run id>`), all or none.
//!
//! The mapping is text, one line a field: `target = source, source, ...`, the first source a run
//! has giving the value. Sources are `metrics.KEY`, `params.KEY` and `tags.KEY`. Targets are the
//! run's `name`, `latency_p50_ms`/`latency_p95_ms`/`latency_p99_ms`, `throughput_rps`,
//! `gpu_model`, `gpu_count`, `cpu_instance`, `hourly_price`, `training_gpu_hours`,
//! `engineering_hours`, one metric by its Pareto name (`metrics.f1 = metrics.val_f1`), and
//! `metrics` itself: `*` (every MLflow metric no other line takes, under its own name), a list of
//! names, or `none`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use super::run::{Hardware, Inference, Latency, RunSpec, Training};
use crate::error::FieldError;

/// The mapping a new import starts from.
pub const DEFAULT_MAPPING: &str = "\
name = tags.mlflow.runName
metrics = *
latency_p50_ms = metrics.latency_p50_ms
latency_p95_ms = metrics.latency_p95_ms
latency_p99_ms = metrics.latency_p99_ms
throughput_rps = metrics.throughput_rps
gpu_model = tags.gpu_model, params.gpu_model
gpu_count = tags.gpu_count, params.gpu_count
cpu_instance = tags.cpu_instance, params.cpu_instance
hourly_price = tags.hourly_price, params.hourly_price
training_gpu_hours = tags.training_gpu_hours, params.training_gpu_hours, metrics.training_gpu_hours
engineering_hours = tags.engineering_hours, params.engineering_hours";

/// The most runs one import takes (the API's limit per request too).
pub const MAX_RUNS: usize = 1_000;

/// Where a value is read from in an MLflow run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Metric(String),
    Param(String),
    Tag(String),
}

impl Source {
    fn parse(text: &str) -> Result<Source, String> {
        let text = text.trim();
        let (kind, key) = text.split_once('.').unwrap_or((text, ""));
        if key.is_empty() {
            return Err(format!(
                "`{text}` is not a source: write metrics.KEY, params.KEY or tags.KEY"
            ));
        }
        let key = key.to_owned();
        match kind {
            "metrics" => Ok(Source::Metric(key)),
            "params" => Ok(Source::Param(key)),
            "tags" => Ok(Source::Tag(key)),
            other => Err(format!(
                "`{other}.{key}` is not a source: write metrics.KEY, params.KEY or tags.KEY"
            )),
        }
    }

    /// As the mapping writes it.
    pub fn label(&self) -> String {
        match self {
            Source::Metric(key) => format!("metrics.{key}"),
            Source::Param(key) => format!("params.{key}"),
            Source::Tag(key) => format!("tags.{key}"),
        }
    }
}

/// Which MLflow metrics become run metrics under their own names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetricSet {
    All,
    Only(BTreeSet<String>),
}

/// A parsed mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// Run fields (`name`, `gpu_model`, ...) and renamed metrics (`metrics.f1`), each with its
    /// sources in order.
    pub fields: BTreeMap<String, Vec<Source>>,
    pub metrics: MetricSet,
}

const FIELDS: &[&str] = &[
    "name",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "throughput_rps",
    "gpu_model",
    "gpu_count",
    "cpu_instance",
    "hourly_price",
    "training_gpu_hours",
    "engineering_hours",
];

impl FromStr for Mapping {
    type Err = Vec<FieldError>;

    /// Every bad line is named by its number.
    fn from_str(text: &str) -> Result<Mapping, Vec<FieldError>> {
        let mut fields = BTreeMap::new();
        let mut metrics = MetricSet::All;
        let mut problems = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let at = format!("line {}", index + 1);
            let Some((target, sources)) = line.split_once('=') else {
                problems.push(FieldError {
                    field: "mapping".into(),
                    message: format!("{at}: `{line}` is not `target = source`"),
                });
                continue;
            };
            let target = target.trim();
            if target == "metrics" {
                let names: BTreeSet<String> = sources
                    .split(',')
                    .map(|name| name.trim().to_ascii_lowercase())
                    .filter(|name| !name.is_empty())
                    .collect();
                metrics = if names.contains("*") {
                    MetricSet::All
                } else if names.contains("none") {
                    MetricSet::Only(BTreeSet::new())
                } else {
                    MetricSet::Only(names)
                };
                continue;
            }
            let known = FIELDS.contains(&target)
                || target
                    .strip_prefix("metrics.")
                    .is_some_and(|name| super::metric_name(name).is_ok());
            if !known {
                problems.push(FieldError {
                    field: "mapping".into(),
                    message: format!(
                        "{at}: `{target}` is not a run field: use {}, metrics.NAME or metrics",
                        FIELDS.join(", ")
                    ),
                });
                continue;
            }
            match sources
                .split(',')
                .map(Source::parse)
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(parsed) => {
                    fields.insert(target.to_owned(), parsed);
                }
                Err(message) => problems.push(FieldError {
                    field: "mapping".into(),
                    message: format!("{at}: {message}"),
                }),
            }
        }
        if problems.is_empty() {
            Ok(Mapping { fields, metrics })
        } else {
            Err(problems)
        }
    }
}

impl Default for Mapping {
    fn default() -> Self {
        DEFAULT_MAPPING.parse().expect("the default mapping parses")
    }
}

/// `{"key": ..., "value": ...}`, as MLflow lists metrics, params and tags.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct KeyValue {
    pub key: String,
    /// A number for a metric: MLflow writes NaN and the infinities as strings.
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct RunData {
    #[serde(default)]
    pub metrics: Vec<KeyValue>,
    #[serde(default)]
    pub params: Vec<KeyValue>,
    #[serde(default)]
    pub tags: Vec<KeyValue>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RunInfo {
    pub run_id: String,
    #[serde(default)]
    pub run_name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// One run as `runs/search` answers it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct MlflowRun {
    pub info: RunInfo,
    #[serde(default)]
    pub data: RunData,
}

/// A problem with one MLflow run: its id, the field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProblem {
    pub run_id: String,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for RunProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "run {}: {}: {}", self.run_id, self.field, self.message)
    }
}

/// The run key an MLflow run is stored under.
pub fn run_key(run_id: &str) -> String {
    format!("mlflow-{run_id}")
}

fn text_of(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A metric's value, or why it has none (MLflow keeps NaN and infinities).
fn metric_value(value: &serde_json::Value) -> Result<f64, String> {
    let number = match value {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match number {
        Some(n) if n.is_finite() => Ok(n),
        _ => Err(format!("is {} in MLflow, not a number", text_of(value))),
    }
}

impl MlflowRun {
    fn lookup(&self, source: &Source) -> Option<&serde_json::Value> {
        let (list, key) = match source {
            Source::Metric(key) => (&self.data.metrics, key),
            Source::Param(key) => (&self.data.params, key),
            Source::Tag(key) => (&self.data.tags, key),
        };
        list.iter().find(|kv| &kv.key == key).map(|kv| &kv.value)
    }

    /// The first of `sources` this run has, with where it came from.
    fn first<'a>(
        &'a self,
        sources: Option<&'a Vec<Source>>,
    ) -> Option<(&'a Source, &'a serde_json::Value)> {
        sources?
            .iter()
            .find_map(|source| self.lookup(source).map(|value| (source, value)))
    }
}

/// The run as Pareto takes it, or each problem by the MLflow run's id and the field (and source)
/// it comes from. `model_version_id` is the catalog version MLflow's registry links it to.
pub fn to_spec(
    run: &MlflowRun,
    mapping: &Mapping,
    model_version_id: Option<uuid::Uuid>,
) -> Result<RunSpec, Vec<RunProblem>> {
    let run_id = run.info.run_id.clone();
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(RunProblem {
            run_id: run_id.clone(),
            field: field.to_owned(),
            message,
        })
    };
    let number = |field: &str, problem: &mut dyn FnMut(&str, String)| -> Option<f64> {
        let (source, value) = run.first(mapping.fields.get(field))?;
        match metric_value(value) {
            Ok(n) => Some(n),
            Err(message) => {
                problem(&format!("{field} ({})", source.label()), message);
                None
            }
        }
    };
    let text = |field: &str| -> Option<String> {
        run.first(mapping.fields.get(field))
            .map(|(_, value)| text_of(value).trim().to_owned())
            .filter(|t| !t.is_empty())
    };

    // Metrics: renamed ones, then every other metric the set takes, under its own name.
    let mut metrics = BTreeMap::new();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    for (target, sources) in &mapping.fields {
        for source in sources {
            if let Source::Metric(key) = source {
                taken.insert(key);
            }
        }
        if let Some(name) = target.strip_prefix("metrics.") {
            if let Some(value) = number(target, &mut problem) {
                metrics.insert(name.to_owned(), value);
            }
        }
    }
    for metric in &run.data.metrics {
        if taken.contains(metric.key.as_str()) {
            continue;
        }
        let name = metric.key.to_ascii_lowercase();
        let wanted = match &mapping.metrics {
            MetricSet::All => super::metric_name(&name).is_ok(),
            MetricSet::Only(names) => names.contains(&name),
        };
        if !wanted || metrics.contains_key(&name) {
            continue;
        }
        match metric_value(&metric.value) {
            Ok(value) => {
                metrics.insert(name, value);
            }
            Err(message) => problem(&format!("metrics.{}", metric.key), message),
        }
    }

    let latency_ms = Latency {
        p50: number("latency_p50_ms", &mut problem),
        p95: number("latency_p95_ms", &mut problem),
        p99: number("latency_p99_ms", &mut problem),
    };
    let throughput_rps = number("throughput_rps", &mut problem);
    let gpu_hours = number("training_gpu_hours", &mut problem);
    let engineering_hours = number("engineering_hours", &mut problem);
    let gpu_count = match run.first(mapping.fields.get("gpu_count")) {
        None => None,
        Some((source, value)) => match text_of(value).trim().parse::<f64>() {
            Ok(n) if n >= 1.0 && n.fract() == 0.0 && n <= 1024.0 => Some(n as u32),
            _ => {
                problem(
                    &format!("gpu_count ({})", source.label()),
                    format!("`{}` is not a whole number of GPUs", text_of(value)),
                );
                None
            }
        },
    };
    let hourly_price = match run.first(mapping.fields.get("hourly_price")) {
        None => None,
        Some((source, value)) => match Decimal::from_str(text_of(value).trim()) {
            Ok(price) => Some(price),
            Err(_) => {
                problem(
                    &format!("hourly_price ({})", source.label()),
                    format!("`{}` is not an amount", text_of(value)),
                );
                None
            }
        },
    };
    let gpu_model = text("gpu_model");
    let cpu_instance = text("cpu_instance");
    let hardware = (gpu_model.is_some() || cpu_instance.is_some()).then(|| Hardware {
        gpu_count: gpu_model.as_ref().map(|_| gpu_count.unwrap_or(1)),
        gpu_model,
        cpu_instance,
        hourly_price,
    });
    let name = text("name")
        .or_else(|| run.info.run_name.clone().filter(|n| !n.trim().is_empty()))
        .unwrap_or_else(|| run.info.run_id.clone());
    let spec = RunSpec {
        run_key: run_key(&run.info.run_id),
        name,
        model_version_id,
        metrics,
        latency_ms,
        batch_latency_ms: Latency::default(),
        throughput_rps,
        hardware,
        training: gpu_hours.map(|gpu_hours| Training {
            gpu_hours: Some(gpu_hours),
            ..Training::default()
        }),
        engineering_hours,
        inference: Inference::SelfHosted,
        tokens_per_request: None,
        derived_from: None,
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    spec.normalized().map_err(|found| {
        found
            .into_iter()
            .map(|p| RunProblem {
                run_id: run.info.run_id.clone(),
                field: p.field,
                message: p.message,
            })
            .collect()
    })
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Runs found in MLflow that the import took (finished, within the filter).
    pub found: usize,
    pub added: usize,
    /// Imported before, with the same figures.
    pub unchanged: usize,
    /// Runs linked to a catalog version through MLflow's model registry.
    pub linked: usize,
}

impl ImportSummary {
    pub fn sentence(&self, mlflow_experiment: &str) -> String {
        format!(
            "{} finished runs of MLflow's {mlflow_experiment}: {} added, {} already imported{}",
            self.found,
            self.added,
            self.unchanged,
            if self.linked > 0 {
                format!(", {} linked to catalog versions", self.linked)
            } else {
                String::new()
            }
        )
    }
}

#[cfg(feature = "ssr")]
pub use fetch::*;

#[cfg(feature = "ssr")]
mod fetch {
    use std::collections::HashMap;

    use serde::Deserialize;
    use serde_json::json;
    use sqlx::PgPool;
    use uuid::Uuid;

    use super::{to_spec, ImportSummary, Mapping, MlflowRun, RunProblem, MAX_RUNS};
    use crate::audit::Actor;
    use crate::experiments::store::{self, AddRunsError};

    /// What went wrong with an import; nothing was stored.
    #[derive(Debug, thiserror::Error)]
    pub enum ImportError {
        /// The tracking server could not be asked, or answered what MLflow does not.
        #[error("{0}")]
        Server(String),
        /// Runs that cannot be mapped, each by its id and field.
        #[error("{} runs cannot be imported: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
        Runs(Vec<RunProblem>),
        /// Pareto refused the runs (a changed run already imported, say).
        #[error("{0}")]
        Refused(String),
        #[error(transparent)]
        Database(#[from] sqlx::Error),
    }

    /// Where and what to import.
    pub struct Request<'a> {
        pub tracking_uri: &'a str,
        pub experiment: &'a str,
        /// MLflow's search filter, such as `metrics.f1 > 0.8`.
        pub filter: &'a str,
        pub mapping: &'a Mapping,
    }

    #[derive(Deserialize)]
    struct MlflowError {
        #[serde(default)]
        error_code: String,
        #[serde(default)]
        message: String,
    }

    #[derive(Deserialize)]
    struct Experiment {
        experiment_id: String,
    }

    #[derive(Deserialize)]
    struct ExperimentAnswer {
        experiment: Experiment,
    }

    #[derive(Deserialize)]
    struct RunsPage {
        #[serde(default)]
        runs: Vec<MlflowRun>,
        #[serde(default)]
        next_page_token: Option<String>,
    }

    #[derive(Deserialize)]
    struct ModelVersion {
        name: String,
        version: String,
        #[serde(default)]
        run_id: Option<String>,
    }

    #[derive(Deserialize)]
    struct VersionsPage {
        #[serde(default)]
        model_versions: Vec<ModelVersion>,
        #[serde(default)]
        next_page_token: Option<String>,
    }

    fn base(tracking_uri: &str) -> Result<String, ImportError> {
        let trimmed = tracking_uri.trim().trim_end_matches('/');
        match url::Url::parse(trimmed) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Ok(trimmed.to_owned())
            }
            _ => Err(ImportError::Server(format!(
                "`{tracking_uri}` is not an MLflow tracking server's address: write http://host:5000"
            ))),
        }
    }

    async fn answer<T: for<'de> Deserialize<'de>>(
        tracking_uri: &str,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, ImportError> {
        let response = sent.map_err(|error| {
            let why = crate::outbound::refusal_in(&error).unwrap_or_else(|| {
                if error.is_timeout() {
                    "it did not answer in time".to_owned()
                } else {
                    "it cannot be reached".to_owned()
                }
            });
            ImportError::Server(format!("MLflow at {tracking_uri}: {why}"))
        })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|_| {
            ImportError::Server(format!("MLflow at {tracking_uri} stopped answering"))
        })?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<MlflowError>(&bytes)
                .map(|e| format!("{}: {}", e.error_code, e.message))
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(200).collect());
            return Err(ImportError::Server(format!(
                "MLflow at {tracking_uri} answered {status}: {detail}"
            )));
        }
        serde_json::from_slice(&bytes).map_err(|error| {
            ImportError::Server(format!(
                "MLflow at {tracking_uri} answered what its REST API does not: {error}"
            ))
        })
    }

    /// The finished runs of an MLflow experiment, page by page, at most [`MAX_RUNS`].
    pub async fn runs(
        client: &reqwest::Client,
        request: &Request<'_>,
    ) -> Result<Vec<MlflowRun>, ImportError> {
        let base = base(request.tracking_uri)?;
        let experiment: ExperimentAnswer = answer(
            request.tracking_uri,
            client
                .get(format!("{base}/api/2.0/mlflow/experiments/get-by-name"))
                .query(&[("experiment_name", request.experiment)])
                .send()
                .await,
        )
        .await
        .map_err(|error| match error {
            ImportError::Server(message) if message.contains("RESOURCE_DOES_NOT_EXIST") => {
                ImportError::Server(format!(
                    "MLflow at {} has no experiment named {}",
                    request.tracking_uri, request.experiment
                ))
            }
            other => other,
        })?;
        // MLflow's filter has no parentheses or OR: the status is one more AND.
        let finished = "attributes.status = 'FINISHED'";
        let filter = match request.filter.trim() {
            "" => finished.to_owned(),
            given => format!("{given} AND {finished}"),
        };
        let mut found = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut body = json!({
                "experiment_ids": [experiment.experiment.experiment_id],
                "filter": filter,
                "max_results": 500,
                "order_by": ["attributes.start_time ASC"],
            });
            if let Some(token) = &page_token {
                body["page_token"] = json!(token);
            }
            let page: RunsPage = answer(
                request.tracking_uri,
                client
                    .post(format!("{base}/api/2.0/mlflow/runs/search"))
                    .json(&body)
                    .send()
                    .await,
            )
            .await?;
            found.extend(page.runs);
            if found.len() > MAX_RUNS {
                return Err(ImportError::Server(format!(
                    "MLflow's {} has more than {MAX_RUNS} finished runs: narrow the import with a filter",
                    request.experiment
                )));
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(token) => page_token = Some(token),
                None => break,
            }
        }
        Ok(found)
    }

    /// Which registered model version (name, version) each run produced.
    pub async fn registry(
        client: &reqwest::Client,
        tracking_uri: &str,
    ) -> Result<HashMap<String, (String, String)>, ImportError> {
        let base = base(tracking_uri)?;
        let mut by_run = HashMap::new();
        let mut page_token: Option<String> = None;
        for _ in 0..100 {
            let mut query = vec![("max_results", "1000".to_owned())];
            if let Some(token) = &page_token {
                query.push(("page_token", token.clone()));
            }
            let page: VersionsPage = answer(
                tracking_uri,
                client
                    .get(format!("{base}/api/2.0/mlflow/model-versions/search"))
                    .query(&query)
                    .send()
                    .await,
            )
            .await?;
            for version in page.model_versions {
                if let Some(run_id) = version.run_id.filter(|r| !r.is_empty()) {
                    by_run.insert(run_id, (version.name, version.version));
                }
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(token) => page_token = Some(token),
                None => break,
            }
        }
        Ok(by_run)
    }

    /// Imports the runs into `experiment_id`, all or none.
    pub async fn import(
        pool: &PgPool,
        actor: &Actor,
        client: &reqwest::Client,
        experiment_id: Uuid,
        request: &Request<'_>,
    ) -> Result<ImportSummary, ImportError> {
        let runs = runs(client, request).await?;
        let registry = registry(client, request.tracking_uri).await?;
        let mut linked_versions: HashMap<String, Uuid> = HashMap::new();
        for (run_id, (model, version)) in &registry {
            if let Some(id) = crate::catalog::store::version_id(pool, model, version).await? {
                linked_versions.insert(run_id.clone(), id);
            }
        }
        let mut specs = Vec::with_capacity(runs.len());
        let mut problems = Vec::new();
        for run in &runs {
            match to_spec(
                run,
                request.mapping,
                linked_versions.get(&run.info.run_id).copied(),
            ) {
                Ok(spec) => specs.push(spec),
                Err(found) => problems.extend(found),
            }
        }
        if !problems.is_empty() {
            return Err(ImportError::Runs(problems));
        }
        let linked = specs
            .iter()
            .filter(|s| s.model_version_id.is_some())
            .count();
        let found = specs.len();
        if specs.is_empty() {
            return Ok(ImportSummary::default());
        }
        let added = store::add_runs(pool, actor, experiment_id, specs)
            .await
            .map_err(|error| match error {
                AddRunsError::Invalid(found) => ImportError::Runs(
                    found
                        .into_iter()
                        .map(|(index, p)| RunProblem {
                            run_id: runs[index].info.run_id.clone(),
                            field: p.field,
                            message: p.message,
                        })
                        .collect(),
                ),
                AddRunsError::Conflict { index, .. } => ImportError::Refused(format!(
                    "MLflow run {} was imported before with other figures; nothing was imported",
                    runs[index].info.run_id
                )),
                AddRunsError::NotFound => ImportError::Refused("no such experiment".into()),
                AddRunsError::Refused(error) => ImportError::Refused(error.to_string()),
                AddRunsError::Database(error) => ImportError::Database(error),
            })?;
        let unchanged = added.iter().filter(|a| a.duplicate).count();
        Ok(ImportSummary {
            found,
            added: added.len() - unchanged,
            unchanged,
            linked,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A run as MLflow 3's `runs/search` answers it (metrics carry timestamp and step; a NaN is
    /// the string "NaN"; params and tags are strings).
    fn run(
        metrics: serde_json::Value,
        params: serde_json::Value,
        tags: serde_json::Value,
    ) -> MlflowRun {
        serde_json::from_value(json!({
            "info": {
                "run_uuid": "4e0c3b7d9a5f4f0f8f1a2b3c4d5e6f70",
                "run_id": "4e0c3b7d9a5f4f0f8f1a2b3c4d5e6f70",
                "experiment_id": "1",
                "run_name": "bold-owl-42",
                "user_id": "ana",
                "status": "FINISHED",
                "start_time": 1764000000000_i64,
                "end_time": 1764000360000_i64,
                "artifact_uri": "mlflow-artifacts:/1/4e0c3b7d9a5f4f0f8f1a2b3c4d5e6f70/artifacts",
                "lifecycle_stage": "active"
            },
            "data": { "metrics": metrics, "params": params, "tags": tags },
            "inputs": {}
        }))
        .expect("a run")
    }

    fn metric(key: &str, value: serde_json::Value) -> serde_json::Value {
        json!({ "key": key, "value": value, "timestamp": 1764000300000_i64, "step": 0 })
    }

    #[test]
    fn a_run_maps_by_the_default_mapping() {
        let mlflow = run(
            json!([
                metric("f1", json!(0.91)),
                metric("AUC", json!(0.97)),
                metric("latency_p95_ms", json!(38.5)),
                metric("throughput_rps", json!(420)),
                metric("training_gpu_hours", json!(6.5)),
            ]),
            json!([{ "key": "gpu_count", "value": "2" }, { "key": "max_depth", "value": "8" }]),
            json!([
                { "key": "mlflow.runName", "value": "xgb-depth-8" },
                { "key": "gpu_model", "value": "NVIDIA L4" },
                { "key": "mlflow.user", "value": "ana" }
            ]),
        );
        let spec = to_spec(&mlflow, &Mapping::default(), None).expect("maps");
        assert_eq!(spec.run_key, "mlflow-4e0c3b7d9a5f4f0f8f1a2b3c4d5e6f70");
        assert_eq!(spec.name, "xgb-depth-8");
        assert_eq!(spec.metrics.get("f1"), Some(&0.91));
        assert_eq!(spec.metrics.get("auc"), Some(&0.97));
        // Taken by their own lines, so not metrics too.
        assert!(!spec.metrics.contains_key("latency_p95_ms"));
        assert!(!spec.metrics.contains_key("training_gpu_hours"));
        assert_eq!(spec.latency_ms.p95, Some(38.5));
        assert_eq!(spec.throughput_rps, Some(420.0));
        let hardware = spec.hardware.expect("hardware");
        assert_eq!(hardware.gpu_model.as_deref(), Some("NVIDIA L4"));
        assert_eq!(hardware.gpu_count, Some(2));
        assert_eq!(spec.training.and_then(|t| t.gpu_hours), Some(6.5));
    }

    #[test]
    fn an_edited_mapping_renames_and_narrows() {
        let mapping: Mapping = "metrics = none\nmetrics.f1 = metrics.val_f1\nlatency_p95_ms = params.p95\nthroughput_rps = params.rps\ngpu_model = params.accelerator"
            .parse()
            .expect("parses");
        let mlflow = run(
            json!([metric("val_f1", json!(0.88)), metric("loss", json!(0.2))]),
            json!([{ "key": "p95", "value": "41" }, { "key": "rps", "value": "90" }, { "key": "accelerator", "value": "NVIDIA A100 80GB" }]),
            json!([]),
        );
        let spec = to_spec(&mlflow, &mapping, None).expect("maps");
        assert_eq!(spec.metrics.len(), 1);
        assert_eq!(spec.metrics["f1"], 0.88);
        assert_eq!(spec.latency_ms.p95, Some(41.0));
        assert_eq!(spec.name, "bold-owl-42");
    }

    #[test]
    fn a_run_that_cannot_be_mapped_is_named_by_id_and_field() {
        let mlflow = run(
            json!([
                metric("f1", json!("NaN")),
                metric("latency_p95_ms", json!("Infinity"))
            ]),
            json!([{ "key": "gpu_count", "value": "two" }]),
            json!([{ "key": "gpu_model", "value": "NVIDIA L4" }]),
        );
        let problems = to_spec(&mlflow, &Mapping::default(), None).expect_err("refused");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"metrics.f1"), "{problems:?}");
        assert!(
            fields.contains(&"latency_p95_ms (metrics.latency_p95_ms)"),
            "{problems:?}"
        );
        assert!(
            fields.contains(&"gpu_count (params.gpu_count)"),
            "{problems:?}"
        );
        assert!(problems
            .iter()
            .all(|p| p.run_id == "4e0c3b7d9a5f4f0f8f1a2b3c4d5e6f70"));
        assert!(problems[0]
            .to_string()
            .starts_with("run 4e0c3b7d9a5f4f0f8f1a2b3c4d5e6f70: "));
    }

    #[test]
    fn a_bad_mapping_is_named_by_its_line() {
        let problems =
            "name = tags.mlflow.runName\nspeed = metrics.rps\ngpu_model = hyper.gpu\nnonsense"
                .parse::<Mapping>()
                .expect_err("refused");
        assert!(problems.iter().all(|p| p.field == "mapping"));
        let at: Vec<&str> = problems
            .iter()
            .map(|p| p.message.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(at, ["line 2", "line 3", "line 4"]);
        assert!(problems[0]
            .message
            .starts_with("line 2: `speed` is not a run field"));
    }
}
