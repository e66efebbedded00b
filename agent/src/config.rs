//! The agent's configuration: a TOML file, overridden by flags and the environment.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::sources::{Metrics, TimeUnit};

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `nvidia-smi --query-gpu=... --format=csv,noheader,nounits`
    #[default]
    NvidiaSmi,
    /// A DCGM exporter's Prometheus page
    Dcgm,
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
        Ok(match preset {
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
        })
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
        if deployments.is_empty() {
            bail!("deployments: map at least one GPU (index or UUID) to a deployment key, e.g. --deployment 0=fraud-lgbm-v3");
        }
        for inference in &file.inference {
            inference.metrics()?;
        }
        let host_given = flags.host.is_some() || file.host.is_some();
        Ok(Config {
            server,
            host_given,
            token,
            interval: Duration::from_secs(interval_s),
            host: flags.host.or(file.host).unwrap_or_else(hostname),
            source: flags.source.or(file.source).unwrap_or_default(),
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
        })
    }

    /// The deployment a GPU serves: by UUID first, then by index.
    pub fn deployment_of(&self, index: u32, uuid: &str) -> Option<&str> {
        self.deployments
            .get(uuid)
            .or_else(|| self.deployments.get(&index.to_string()))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> FileConfig {
        toml::from_str(text).expect("toml")
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
        assert_eq!(config.deployment_of(0, "GPU-x"), Some("fraud-lgbm-v3"));
        assert_eq!(config.deployment_of(7, "GPU-8a"), Some("search-bert-v2"));
        assert_eq!(config.deployment_of(1, "GPU-y"), Some("ocr-v2"));
        assert_eq!(config.deployment_of(2, "GPU-z"), None);
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
