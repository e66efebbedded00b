//! The agent's configuration: a TOML file, overridden by flags and the environment.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cpu::CpuConfig;
use crate::sources::{GpuReading, Metrics, Pod, TimeUnit};

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`
    #[default]
    NvidiaSmi,
    /// A DCGM exporter's Prometheus page
    Dcgm,
    /// No GPUs: a CPU machine, read by the `[cpu]` section
    None,
}

/// The inference servers whose metrics the agent knows by name.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// vLLM: requests, tokens (prefix-cache hits too), latency and time to first token
    Vllm,
    /// Text Generation Inference: requests, tokens and latency
    Tgi,
    /// Triton Inference Server: requests and the mean latency of each interval
    Triton,
    /// Any Prometheus page, with `requests_metric` and `latency_metric`
    Prometheus,
}

/// Where one deployment's request count, latency and tokens come from: its inference server's
/// Prometheus page, read by a preset (`vllm`, `tgi`, `triton`) or by metric names.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Inference {
    pub deployment: String,
    pub url: String,
    pub preset: Option<Preset>,
    /// The model to read, for a server that serves several (its `model_name` or `model` label).
    pub model: Option<String>,
    /// A counter of requests served (the generic form; `http_requests_total` by default).
    pub requests_metric: Option<String>,
    /// A histogram or summary of request latency (the generic form).
    pub latency_metric: Option<String>,
    /// The latency metric's unit: "seconds" (Prometheus convention) or "milliseconds".
    pub latency_unit: Option<String>,
}

impl Inference {
    /// The metrics to read: the preset's, or the named ones of the generic form.
    pub fn metrics(&self) -> anyhow::Result<Metrics> {
        let named = self.requests_metric.is_some()
            || self.latency_metric.is_some()
            || self.latency_unit.is_some();
        let preset = self.preset.unwrap_or(Preset::Prometheus);
        if named && preset != Preset::Prometheus {
            bail!(
                "inference for {}: a preset names its own metrics; drop requests_metric, latency_metric and latency_unit, or use preset = \"prometheus\"",
                self.deployment
            );
        }
        let metrics = match preset {
            Preset::Vllm => Metrics::vllm(),
            Preset::Tgi => Metrics::tgi(),
            Preset::Triton => Metrics::triton(),
            Preset::Prometheus => {
                let unit = match self.latency_unit.as_deref() {
                    None | Some("seconds") => TimeUnit::Seconds,
                    Some("milliseconds") => TimeUnit::Milliseconds,
                    Some(other) => bail!(
                        "inference for {}: latency_unit `{other}` is not seconds or milliseconds",
                        self.deployment
                    ),
                };
                Metrics::prometheus(
                    self.requests_metric
                        .as_deref()
                        .unwrap_or("http_requests_total"),
                    self.latency_metric.as_deref(),
                    unit,
                )
            }
        };
        if self.model.is_some() && metrics.model_labels.is_empty() {
            bail!(
                "inference for {}: this server's metrics name no model (it serves one); drop model",
                self.deployment
            );
        }
        Ok(metrics)
    }
}

/// Where a rule takes the deployment key from, when it does not name one.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum KeyFrom {
    /// The container's name
    Container,
    /// The pod's name
    Pod,
    /// The pod's workload: its name without the ReplicaSet hash and the pod's suffix
    /// (`chat-llama-8b-7d9f8b6c4-x2x9q` → `chat-llama-8b`), or a StatefulSet's ordinal
    Workload,
    /// The namespace
    Namespace,
}

/// Maps the GPUs a Kubernetes pod uses to a deployment, by the pod labels the DCGM exporter
/// gives each GPU. Every condition given must hold; the first rule that matches wins.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub namespace: Option<String>,
    pub pod_prefix: Option<String>,
    pub container: Option<String>,
    /// The deployment key to report.
    pub deployment: Option<String>,
    /// Or the label the key is read from.
    pub key_from: Option<KeyFrom>,
}

/// A pod's workload name: without a Deployment's ReplicaSet hash and random suffix
/// (`name-7d9f8b6c4-x2x9q`), a DaemonSet's or Job's suffix (`name-x2x9q`), or a StatefulSet's
/// ordinal (`name-0`).
pub fn workload_of(pod: &str) -> &str {
    // Kubernetes writes both the hash and the suffix in this alphabet (no vowels, no 0, 1, 3).
    let generated = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&part.len())
            && part
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
    };
    let Some((rest, last)) = pod.rsplit_once('-') else {
        return pod;
    };
    if !last.is_empty() && last.chars().all(|c| c.is_ascii_digit()) {
        return rest;
    }
    if !generated(last, 5..=5) {
        return pod;
    }
    match rest.rsplit_once('-') {
        Some((base, hash)) if generated(hash, 6..=10) => base,
        _ => rest,
    }
}

/// The longest deployment key the server takes.
const MAX_KEY_CHARS: usize = 200;

impl Rule {
    fn check(&self, number: usize, last: bool) -> anyhow::Result<()> {
        let at = format!("rules[{number}]");
        match (&self.deployment, self.key_from) {
            (Some(_), Some(_)) => bail!("{at}: give deployment or key_from, not both"),
            (None, None) => bail!("{at}: give the deployment key, or key_from (container, pod, workload or namespace)"),
            (Some(key), None) if key.trim().is_empty() => bail!("{at}: deployment is empty"),
            _ => {}
        }
        let conditions = [&self.namespace, &self.pod_prefix, &self.container];
        if conditions
            .iter()
            .any(|c| c.as_ref().is_some_and(|c| c.is_empty()))
        {
            bail!("{at}: an empty namespace, pod_prefix or container matches nothing or everything; leave it out");
        }
        if conditions.iter().all(|c| c.is_none()) && (self.deployment.is_some() || !last) {
            bail!("{at}: needs a condition (namespace, pod_prefix or container); only the last rule may take a key_from every pod");
        }
        Ok(())
    }

    /// The deployment key this rule gives a pod, if it matches.
    pub fn key_for(&self, pod: &Pod) -> Option<String> {
        let holds = self.namespace.as_ref().is_none_or(|n| *n == pod.namespace)
            && self
                .pod_prefix
                .as_ref()
                .is_none_or(|p| pod.pod.starts_with(p.as_str()))
            && self.container.as_ref().is_none_or(|c| *c == pod.container);
        if !holds {
            return None;
        }
        let key = match (&self.deployment, self.key_from) {
            (Some(key), _) => key.clone(),
            (None, Some(KeyFrom::Container)) => pod.container.clone(),
            (None, Some(KeyFrom::Pod)) => pod.pod.clone(),
            (None, Some(KeyFrom::Workload)) => workload_of(&pod.pod).to_owned(),
            (None, Some(KeyFrom::Namespace)) => pod.namespace.clone(),
            (None, None) => return None,
        };
        // A key the server would refuse (empty, or longer than a key may be) is no match: the
        // next rule may map the pod.
        Some(key).filter(|k| !k.trim().is_empty() && k.chars().count() <= MAX_KEY_CHARS)
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub server: Option<String>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    pub interval_s: Option<u64>,
    pub host: Option<String>,
    pub source: Option<Source>,
    pub nvidia_smi: Option<PathBuf>,
    pub dcgm_url: Option<String>,
    pub spool_dir: Option<PathBuf>,
    pub spool_max_mib: Option<u64>,
    /// GPU index ("0") or UUID ("GPU-8a…") to deployment key.
    #[serde(default)]
    pub deployments: BTreeMap<String, String>,
    #[serde(default)]
    pub inference: Vec<Inference>,
    /// Pod rules, for GPUs the static table does not map.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The host as a CPU machine, with its CPU-served deployments.
    pub cpu: Option<CpuConfig>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub server: String,
    pub token: String,
    pub interval: Duration,
    pub host: String,
    /// Whether the host name was configured rather than taken from this machine.
    pub host_given: bool,
    pub source: Source,
    pub nvidia_smi: PathBuf,
    pub dcgm_url: String,
    pub spool_dir: PathBuf,
    pub spool_max_bytes: u64,
    pub deployments: BTreeMap<String, String>,
    pub inference: Vec<Inference>,
    pub rules: Vec<Rule>,
    pub cpu: Option<CpuConfig>,
}

/// Values given on the command line, which win over the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub server: Option<String>,
    pub token: Option<String>,
    pub interval_s: Option<u64>,
    pub host: Option<String>,
    pub source: Option<Source>,
    pub nvidia_smi: Option<PathBuf>,
    pub spool_dir: Option<PathBuf>,
    pub deployments: Vec<(String, String)>,
}

pub fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim()))
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

impl Config {
    pub fn resolve(
        file: FileConfig,
        flags: Overrides,
        env_token: Option<String>,
        dry_run: bool,
    ) -> anyhow::Result<Config> {
        let server = flags
            .server
            .or(file.server)
            .unwrap_or_else(|| "http://127.0.0.1:3000".into())
            .trim_end_matches('/')
            .to_owned();
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            bail!("server: `{server}` must start with http:// or https://");
        }
        let token = match (flags.token, env_token, file.token, &file.token_file) {
            (Some(token), _, _, _) | (None, Some(token), _, _) | (None, None, Some(token), _) => {
                token
            }
            (None, None, None, Some(path)) => std::fs::read_to_string(path)
                .with_context(|| format!("token_file: cannot read {}", path.display()))?
                .trim()
                .to_owned(),
            (None, None, None, None) => String::new(),
        };
        if token.is_empty() && !dry_run {
            bail!(
                "no token: set token or token_file in the config, PARETO_AGENT_TOKEN, or --token"
            );
        }
        let interval_s = flags.interval_s.or(file.interval_s).unwrap_or(10);
        if interval_s == 0 || interval_s > 3600 {
            bail!("interval_s: must be between 1 and 3600 seconds");
        }
        let mut deployments = file.deployments;
        deployments.extend(flags.deployments);
        let source = flags.source.or(file.source).unwrap_or_default();
        let cpu_deployments = file.cpu.as_ref().map_or(0, |cpu| cpu.deployments.len());
        if deployments.is_empty() && file.rules.is_empty() && cpu_deployments == 0 {
            bail!("deployments: map at least one GPU (index or UUID) to a deployment key, e.g. --deployment 0=fraud-lgbm-v3, add [[rules]] for Kubernetes pods, or [[cpu.deployments]] for a CPU machine");
        }
        if source == Source::None && file.cpu.is_none() {
            bail!("source = \"none\" reads no GPUs: add a [cpu] section for this machine");
        }
        if let Some(cpu) = &file.cpu {
            cpu.check()?;
        }
        if !file.rules.is_empty() && source != Source::Dcgm {
            bail!("rules: pods are read from the DCGM exporter; set source = \"dcgm\" or drop [[rules]]");
        }
        for (number, rule) in file.rules.iter().enumerate() {
            rule.check(number, number + 1 == file.rules.len())?;
        }
        let mut read = std::collections::BTreeSet::new();
        for inference in &file.inference {
            inference.metrics()?;
            // Two servers' counters under one key would be taken for each other's restarts.
            if !read.insert(inference.deployment.as_str()) {
                bail!(
                    "inference for {}: one [[inference]] per deployment; a deployment served by several servers needs one key per server",
                    inference.deployment
                );
            }
        }
        let host_given = flags.host.is_some() || file.host.is_some();
        Ok(Config {
            server,
            host_given,
            token,
            interval: Duration::from_secs(interval_s),
            host: flags.host.or(file.host).unwrap_or_else(hostname),
            source,
            nvidia_smi: flags
                .nvidia_smi
                .or(file.nvidia_smi)
                .unwrap_or_else(|| "nvidia-smi".into()),
            dcgm_url: file
                .dcgm_url
                .unwrap_or_else(|| "http://127.0.0.1:9400/metrics".into()),
            spool_dir: flags
                .spool_dir
                .or(file.spool_dir)
                .unwrap_or_else(|| "/var/lib/pareto-agent/spool".into()),
            spool_max_bytes: file.spool_max_mib.unwrap_or(256) * 1024 * 1024,
            deployments,
            inference: file.inference,
            rules: file.rules,
            cpu: file.cpu,
        })
    }

    /// The deployment a device serves: by the static table (its UUID; for a MIG slice
    /// `<index>/<instance>`, then its card's UUID; then its card's index), else by the first pod
    /// rule that matches.
    pub fn deployment_of(&self, gpu: &GpuReading) -> Option<String> {
        let slice = gpu
            .slice
            .as_ref()
            .map(|s| format!("{}/{}", gpu.index, s.instance));
        let card = gpu.slice.as_ref().map(|s| s.parent_uuid.clone());
        [
            Some(gpu.uuid.clone()),
            slice,
            card,
            Some(gpu.index.to_string()),
        ]
        .into_iter()
        .flatten()
        .find_map(|name| self.deployments.get(&name).cloned())
        .or_else(|| {
            let pod = gpu.pod.as_ref()?;
            self.rules.iter().find_map(|rule| rule.key_for(pod))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).expect("toml")
    }

    fn gpu(index: u32, uuid: &str, pod: Option<(&str, &str, &str)>) -> GpuReading {
        GpuReading {
            index,
            uuid: uuid.into(),
            model: "NVIDIA H100 80GB HBM3".into(),
            utilization_pct: 0.0,
            memory_used_mib: 0.0,
            power_watts: 0.0,
            slice: None,
            pod: pod.map(|(namespace, pod, container)| Pod {
                namespace: namespace.into(),
                pod: pod.into(),
                container: container.into(),
            }),
            cpu_cores: None,
        }
    }

    #[test]
    fn pod_rules_map_gpus_the_table_does_not() {
        let config = Config::resolve(
            file(
                r#"
                token = "t"
                source = "dcgm"
                [deployments]
                "3" = "fraud-lgbm-v3"
                [[rules]]
                namespace = "ml-serving"
                pod_prefix = "chat-"
                deployment = "chat-llama-8b"
                [[rules]]
                namespace = "ml-serving"
                key_from = "workload"
                [[rules]]
                key_from = "container"
                "#,
            ),
            Overrides::default(),
            None,
            false,
        )
        .expect("valid");
        let of = |pod| config.deployment_of(&gpu(0, "GPU-a", Some(pod)));
        assert_eq!(
            of(("ml-serving", "chat-7d9f8b6c4-x2x9q", "vllm")).as_deref(),
            Some("chat-llama-8b")
        );
        assert_eq!(
            of(("ml-serving", "ranker-v5-6c8f7d9b5-q4w8z", "ranker")).as_deref(),
            Some("ranker-v5")
        );
        assert_eq!(
            of(("batch", "nightly-x2x9q", "scorer")).as_deref(),
            Some("scorer")
        );
        assert_eq!(
            config
                .deployment_of(&gpu(3, "GPU-b", Some(("batch", "p", "c"))))
                .as_deref(),
            Some("fraud-lgbm-v3"),
            "the static table first"
        );
        assert_eq!(config.deployment_of(&gpu(1, "GPU-c", None)), None);

        let refused = |text: &str| {
            Config::resolve(file(text), Overrides::default(), None, false)
                .expect_err("refused")
                .to_string()
        };
        let dcgm = "token = \"t\"\nsource = \"dcgm\"\n";
        assert!(refused(&format!(
            "{dcgm}[[rules]]\nnamespace = \"a\"\ndeployment = \"x\"\nkey_from = \"pod\""
        ))
        .contains("not both"));
        assert!(refused(&format!(
            "{dcgm}[[rules]]\npod_prefix = \"\"\ndeployment = \"x\""
        ))
        .contains("empty"));
        assert!(refused(&format!(
            "{dcgm}[[rules]]\nkey_from = \"pod\"\n[[rules]]\nnamespace = \"a\"\ndeployment = \"x\""
        ))
        .contains("only the last rule"));
        assert!(
            refused("token = \"t\"\n[[rules]]\nnamespace = \"a\"\ndeployment = \"x\"")
                .contains("source = \"dcgm\"")
        );
        let long = "c".repeat(250);
        assert_eq!(
            of(("batch", "p-x2x9q", long.as_str())),
            None,
            "a key the server would refuse"
        );
    }

    #[test]
    fn workloads_drop_what_kubernetes_adds_to_a_pod_name() {
        assert_eq!(
            workload_of("chat-llama-8b-7d9f8b6c4-x2x9q"),
            "chat-llama-8b"
        );
        assert_eq!(workload_of("embedder-v2-0"), "embedder-v2");
        assert_eq!(workload_of("node-scorer-x2x9q"), "node-scorer");
        assert_eq!(workload_of("standalone"), "standalone");
        assert_eq!(workload_of("llama-70b"), "llama-70b");
        assert_eq!(
            workload_of("ranker-v5-bcdfghjkl-x2x9q"),
            "ranker-v5",
            "a hash without digits"
        );
        assert_eq!(
            workload_of("team-alpha"),
            "team-alpha",
            "vowels: not generated"
        );
    }

    #[test]
    fn a_file_with_flags_on_top() {
        let file = file(
            r#"
            server = "https://pareto.example.com/"
            token = "pareto_file"
            interval_s = 15
            [deployments]
            "0" = "fraud-lgbm-v3"
            "GPU-8a" = "search-bert-v2"
            [[inference]]
            deployment = "fraud-lgbm-v3"
            url = "http://127.0.0.1:8000/metrics"
            latency_metric = "request_latency_seconds"
            "#,
        );
        let flags = Overrides {
            interval_s: Some(5),
            deployments: vec![("1".into(), "ocr-v2".into())],
            ..Overrides::default()
        };
        let config = Config::resolve(file, flags, None, false).expect("valid");
        assert_eq!(config.server, "https://pareto.example.com");
        assert_eq!(config.token, "pareto_file");
        assert_eq!(config.interval, Duration::from_secs(5));
        let of = |index: u32, uuid: &str| config.deployment_of(&gpu(index, uuid, None));
        assert_eq!(of(0, "GPU-x").as_deref(), Some("fraud-lgbm-v3"));
        assert_eq!(of(7, "GPU-8a").as_deref(), Some("search-bert-v2"));
        assert_eq!(of(1, "GPU-y").as_deref(), Some("ocr-v2"));
        assert_eq!(of(2, "GPU-z"), None);
        let metrics = config.inference[0].metrics().expect("metrics");
        assert_eq!(metrics.requests, "http_requests_total");
        assert_eq!(metrics.latency.as_deref(), Some("request_latency_seconds"));
    }

    #[test]
    fn a_preset_names_its_own_metrics() {
        let config = |inference: &str| {
            Config::resolve(
                file(&format!(
                    "token = \"t\"\n[deployments]\n\"0\" = \"chat\"\n[[inference]]\n\
                     deployment = \"chat\"\nurl = \"http://127.0.0.1:8000/metrics\"\n{inference}"
                )),
                Overrides::default(),
                None,
                false,
            )
        };
        let vllm = config("preset = \"vllm\"\nmodel = \"meta-llama/Llama-3.1-8B-Instruct\"")
            .expect("valid");
        let metrics = vllm.inference[0].metrics().expect("metrics");
        assert_eq!(
            metrics.input_tokens.as_deref(),
            Some("vllm:prompt_tokens_total")
        );
        assert_eq!(
            vllm.inference[0].model.as_deref(),
            Some("meta-llama/Llama-3.1-8B-Instruct")
        );
        let mixed = config("preset = \"tgi\"\nrequests_metric = \"x_total\"");
        assert!(mixed
            .expect_err("refused")
            .to_string()
            .contains("names its own metrics"),);
        let one_model = config("preset = \"tgi\"\nmodel = \"bigscience/bloom\"");
        assert!(one_model
            .expect_err("refused")
            .to_string()
            .contains("drop model"));
        let unit = config("latency_unit = \"minutes\"");
        assert!(unit.expect_err("refused").to_string().contains("`minutes`"));
        assert!(
            toml::from_str::<FileConfig>(
                "[[inference]]\ndeployment = \"a\"\nurl = \"u\"\npreset = \"onnx\""
            )
            .is_err(),
            "unknown presets are refused"
        );
    }

    #[test]
    fn missing_or_bad_settings_are_named() {
        let no_token = Config::resolve(
            file("[deployments]\n\"0\" = \"a\""),
            Overrides::default(),
            None,
            false,
        );
        assert!(no_token
            .expect_err("no token")
            .to_string()
            .contains("no token"));
        let no_map = Config::resolve(file("token = \"t\""), Overrides::default(), None, false);
        assert!(no_map
            .expect_err("no map")
            .to_string()
            .contains("deployments"));
        let bad_server = Config::resolve(
            file("token = \"t\"\nserver = \"pareto:3000\"\n[deployments]\n\"0\" = \"a\""),
            Overrides::default(),
            None,
            false,
        );
        assert!(bad_server
            .expect_err("bad server")
            .to_string()
            .contains("http://"));
        assert!(
            toml::from_str::<FileConfig>("colour = 1").is_err(),
            "unknown keys are refused"
        );
    }
}
