//! Black-box test harness: the real `pareto` binary against a fresh Postgres database.
//!
//! The binary is the one `cargo xtask site` or `make test` leaves in `target/debug/pareto` (or
//! `PARETO_BIN`); `make test` builds it before running these tests.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/pareto";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The `pareto` binary under test.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("PARETO_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| workspace_root().join("target"), PathBuf::from);
    let path = target.join("debug").join("pareto");
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo xtask site` or `make test` or set PARETO_BIN",
        path.display()
    );
    path
}

/// A database created for one test and dropped after it.
pub struct TestDb {
    pub name: String,
    server_url: String,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let base = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.into());
        let server_url = base
            .rsplit_once('/')
            .map(|(server, _)| server.to_owned())
            .expect("DATABASE_URL has a path");
        let name = format!("pareto_bb_{}", uuid::Uuid::new_v4().simple());
        let db = TestDb { name, server_url };
        db.admin(&format!("create database {}", db.name)).await;
        db
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server_url, self.name)
    }

    async fn admin(&self, statement: &str) {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&format!("{}/postgres", self.server_url))
            .await
            .expect("Postgres answers at DATABASE_URL");
        sqlx::query(statement)
            .execute(&mut connection)
            .await
            .expect(statement);
    }

    pub async fn execute(&self, statement: &str) {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&self.url())
            .await
            .expect("test database");
        sqlx::raw_sql(statement)
            .execute(&mut connection)
            .await
            .expect(statement);
    }

    pub async fn drop(self) {
        self.admin(&format!(
            "drop database if exists {} with (force)",
            self.name
        ))
        .await;
    }
}

/// Runs one `pareto` subcommand against `db`, feeding `stdin`.
pub fn pareto(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    pareto_with_env(&[("DATABASE_URL", &db.url())], args, stdin)
}

pub fn pareto_with_env(env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .env("PARETO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pareto starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("pareto finishes")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `pareto serve`, stopped when dropped.
pub struct Server {
    child: Child,
    pub base_url: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts the server on a free port and waits until `/readyz` answers.
    pub async fn start(db: &TestDb) -> Server {
        Server::start_at(db, "127.0.0.1:0").await
    }

    /// Starts the server on `listen` (e.g. to come back on the same port after a kill).
    pub async fn start_at(db: &TestDb, listen: &str) -> Server {
        Server::start_with(db, listen, &[]).await
    }

    /// Starts the server with more environment variables (`PARETO_ALERT_INTERVAL`, ...).
    pub async fn start_with(db: &TestDb, listen: &str, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .envs(env.iter().copied())
            .env("DATABASE_URL", db.url())
            .env("PARETO_LISTEN", listen)
            .env("LEPTOS_SITE_ROOT", workspace_root().join("target/site"));
        Server::spawn(command).await
    }

    /// Runs `command` (a `pareto serve`, from wherever it is installed), and waits until it
    /// reports its address and `/readyz` answers.
    pub async fn spawn(mut command: Command) -> Server {
        let mut child = command
            .env("PARETO_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pareto serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let base_url = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(remaining) {
                Ok(line) => {
                    if let Some(url) = line.split("listening on ").nth(1) {
                        break url.split_whitespace().next().expect("url").to_owned();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("pareto serve did not report its address within 60 s");
                }
            }
        };
        let server = Server {
            child,
            base_url,
            lines,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        // Poll readiness; the server reports its address before the database check completes.
        loop {
            if let Ok(response) = client.get(self.url("/readyz")).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "/readyz did not answer 200 within 30 s"
            );
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Signs in through the login server function at `login_path` (`app::auth::Login::PATH`)
    /// and returns the session cookie.
    pub async fn sign_in(&self, login_path: &str, email: &str, password: &str) -> String {
        let reply = client()
            .post(self.url(login_path))
            .header("sec-fetch-site", "same-origin")
            .header("accept", "application/json")
            .form(&[("email", email), ("password", password)])
            .send()
            .await
            .expect("login");
        assert!(reply.status().is_success(), "{}", reply.status());
        reply
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// How many alert rounds this server has run, from its metrics.
    pub async fn alert_evaluations(&self) -> u64 {
        let body = client()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        body.lines()
            .find_map(|line| line.strip_prefix("pareto_alert_evaluations_total "))
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Kills the process outright (SIGKILL), as a crash or the OOM killer would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit and returns its status and the log lines it printed.
    pub fn wait_exit(mut self, timeout: Duration) -> (std::process::ExitStatus, Vec<String>) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                let logs = self.lines.try_iter().collect();
                return (status, logs);
            }
            assert!(
                Instant::now() < deadline,
                "pareto did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that does not follow redirects, so tests see them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `pareto-agent` binary under test (built by `make test`, or `PARETO_AGENT_BIN`).
pub fn agent_binary() -> PathBuf {
    if let Ok(path) = std::env::var("PARETO_AGENT_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| workspace_root().join("target"), PathBuf::from);
    let path = target.join("debug").join("pareto-agent");
    assert!(
        path.exists(),
        "{} does not exist: build it with `cargo build -p pareto-agent` (make test does) or set PARETO_AGENT_BIN",
        path.display()
    );
    path
}

impl TestDb {
    /// The team Fraud Detection (`6d1f9a1e-…-000000000001`) with a 1,000 USD monthly budget, a rule
    /// that sends bill rows tagged `team=fraud` to it (`…-000000000002`), and a webhook at
    /// `webhook_url`: what the alert tests fill with spend.
    pub async fn fraud_budget(&self, webhook_url: &str) {
        self.execute("insert into team (team_id, name) values ('6d1f9a1e-0000-4000-8000-000000000001', 'Fraud Detection')")
            .await;
        self.execute(
            "insert into allocation_rule (allocation_rule_id, position, name, match_kind, match_key, match_pattern, like_pattern, split)
             values ('6d1f9a1e-0000-4000-8000-000000000002', 1, 'fraud tag', 'tag', 'team', 'fraud', 'fraud', 'equal')",
        )
        .await;
        self.execute(
            "insert into allocation_target (allocation_rule_id, position, team_id)
             values ('6d1f9a1e-0000-4000-8000-000000000002', 1, '6d1f9a1e-0000-4000-8000-000000000001')",
        )
        .await;
        self.execute(
            "insert into budget (scope, team_id, monthly_amount, currency)
             values ('team', '6d1f9a1e-0000-4000-8000-000000000001', 1000, 'USD')",
        )
        .await;
        self.execute(&format!(
            "insert into webhook (name, url) values ('#ml-costs', '{webhook_url}')"
        ))
        .await;
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&self.url())
            .await
            .expect("test database");
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(&mut connection)
            .await
            .expect(sql)
    }
}

/// A scratch folder, deleted when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let path =
            std::env::temp_dir().join(format!("pareto-{name}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).expect("scratch folder");
        Scratch(path)
    }

    /// Writes an executable script that prints `output`, standing in for nvidia-smi. Each call
    /// adds a line to `nvidia-smi.calls`, so a test knows how many readings were taken.
    pub fn fake_nvidia_smi(&self, output: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join("nvidia-smi");
        let calls = self.0.join("nvidia-smi.calls");
        let script = format!(
            "#!/bin/sh\necho reading >> '{}'\ncat <<'CSV'\n{output}\nCSV\n",
            calls.display()
        );
        std::fs::write(&path, script).expect("script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path
    }
}

impl Scratch {
    /// How many times the fake nvidia-smi ran.
    pub fn nvidia_smi_calls(&self) -> i64 {
        std::fs::read_to_string(self.0.join("nvidia-smi.calls"))
            .map_or(0, |calls| calls.lines().count() as i64)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An inference server's metrics page whose request counter grows by `step` at every scrape.
pub struct FakeMetrics {
    pub url: String,
    /// Every counter value served, in order.
    pub served: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeMetrics {
    /// A generic Prometheus page: a request counter and a latency summary.
    pub async fn start(step: u64) -> FakeMetrics {
        FakeMetrics::serving(step, |total| {
            format!(
                "# TYPE http_requests_total counter\nhttp_requests_total{{code=\"200\"}} {total}\n\
                 # TYPE request_latency_seconds summary\n\
                 request_latency_seconds{{quantile=\"0.5\"}} 0.012\n\
                 request_latency_seconds{{quantile=\"0.95\"}} 0.040\n\
                 request_latency_seconds{{quantile=\"0.99\"}} 0.080\n"
            )
        })
        .await
    }

    /// A vLLM page (its documented metric names, with colons) serving two models; of each
    /// request of `model`, 1,200 prompt tokens (400 of them prefix-cache hits) and 300 generated,
    /// its first token within 100 ms and the whole request within 2.5 s.
    pub async fn vllm(step: u64, model: &'static str) -> FakeMetrics {
        FakeMetrics::serving(step, move |total| {
            let this = format!("engine=\"0\",model_name=\"{model}\"");
            let other = "engine=\"0\",model_name=\"Qwen/Qwen2.5-7B-Instruct\"";
            format!(
                "# TYPE vllm:request_success_total counter\n\
                 vllm:request_success_total{{{this},finished_reason=\"stop\"}} {total}.0\n\
                 vllm:request_success_total{{{other},finished_reason=\"stop\"}} {}.0\n\
                 # TYPE vllm:prompt_tokens_total counter\n\
                 vllm:prompt_tokens_total{{{this}}} {}.0\n\
                 vllm:prompt_tokens_total{{{other}}} {}.0\n\
                 # TYPE vllm:generation_tokens_total counter\n\
                 vllm:generation_tokens_total{{{this}}} {}.0\n\
                 # TYPE vllm:prefix_cache_hits_total counter\n\
                 vllm:prefix_cache_hits_total{{{this}}} {}.0\n\
                 # TYPE vllm:e2e_request_latency_seconds histogram\n\
                 vllm:e2e_request_latency_seconds_bucket{{{this},le=\"1.0\"}} 0.0\n\
                 vllm:e2e_request_latency_seconds_bucket{{{this},le=\"2.5\"}} {total}.0\n\
                 vllm:e2e_request_latency_seconds_bucket{{{this},le=\"+Inf\"}} {total}.0\n\
                 # TYPE vllm:time_to_first_token_seconds histogram\n\
                 vllm:time_to_first_token_seconds_bucket{{{this},le=\"0.1\"}} {total}.0\n\
                 vllm:time_to_first_token_seconds_bucket{{{this},le=\"+Inf\"}} {total}.0\n",
                total * 7,
                total * 1_200,
                total * 99_000,
                total * 300,
                total * 400,
            )
        })
        .await
    }

    /// Serves `page(total)` at /metrics, `total` growing by `step` at each scrape.
    pub async fn serving(step: u64, page: impl Fn(u64) -> String + Send + 'static) -> FakeMetrics {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/metrics", listener.local_addr().expect("address"));
        let served = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = served.clone();
        let task = tokio::spawn(async move {
            let mut total = 0u64;
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    break;
                };
                let mut request = [0u8; 2048];
                let _ = stream.read(&mut request).await;
                total += step;
                if let Ok(mut log) = log.lock() {
                    log.push(total);
                }
                let body = page(total);
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        FakeMetrics { url, served, task }
    }
}

impl Drop for FakeMetrics {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP/1.1 request: its header block and as much body as Content-Length says.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        request.extend_from_slice(&buffer[..read]);
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&request[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if request.len() >= end + 4 + length {
            return Some((head, request[end + 4..end + 4 + length].to_vec()));
        }
    }
}

/// A stand-in for Pareto's telemetry API that answers the statuses it was given, in order, and
/// 202 after them; it keeps every batch it received (gzip opened) with the status it answered.
pub struct ScriptedIngest {
    pub url: String,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<(u16, serde_json::Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedIngest {
    pub async fn start(statuses: &[u16]) -> ScriptedIngest {
        use std::io::Read;
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = received.clone();
        let mut script: std::collections::VecDeque<u16> = statuses.iter().copied().collect();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    break;
                };
                let Some((head, body)) = read_request(&mut stream).await else {
                    continue;
                };
                let gzipped = head.to_ascii_lowercase().contains("content-encoding: gzip");
                let mut bytes = Vec::new();
                if gzipped {
                    let _ = flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut bytes);
                } else {
                    bytes = body;
                }
                let status = script.pop_front().unwrap_or(202);
                let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                if let Ok(mut log) = log.lock() {
                    log.push((status, json));
                }
                let answer = format!(
                    "{{\"type\":\"about:blank\",\"title\":\"scripted\",\"status\":{status}}}"
                );
                let response = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        ScriptedIngest {
            url,
            received,
            task,
        }
    }

    /// The batches answered with a 2xx.
    pub fn stored(&self) -> Vec<serde_json::Value> {
        self.received
            .lock()
            .map(|log| {
                log.iter()
                    .filter(|(s, _)| (200..300).contains(s))
                    .map(|(_, b)| b.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for ScriptedIngest {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A webhook receiver: answers 500 to the first `failures` requests and 200 after, and keeps
/// every body with the status it was answered.
pub struct WebhookReceiver {
    pub url: String,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<(u16, serde_json::Value)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    pub async fn start(failures: usize) -> WebhookReceiver {
        WebhookReceiver::start_slow(failures, Duration::ZERO).await
    }

    /// A receiver that takes `delay` to answer each request, as a busy chat server does.
    pub async fn start_slow(failures: usize, delay: Duration) -> WebhookReceiver {
        use tokio::io::AsyncWriteExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/hooks/T000/secret",
            listener.local_addr().expect("address")
        );
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = received.clone();
        let task =
            tokio::spawn(async move {
                let mut seen = 0usize;
                loop {
                    let Ok((mut stream, _)) = listener.accept().await else {
                        break;
                    };
                    let body = read_request(&mut stream).await.map(|(_, body)| body);
                    let Some(body) = body else { continue };
                    tokio::time::sleep(delay).await;
                    seen += 1;
                    let status: u16 = if seen <= failures { 500 } else { 200 };
                    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                    if let Ok(mut log) = log.lock() {
                        log.push((status, json));
                    }
                    let response =
                        format!(
                    "HTTP/1.1 {status} {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    if status == 200 { "OK" } else { "Internal Server Error" }
                );
                    let _ = stream.write_all(response.as_bytes()).await;
                }
            });
        WebhookReceiver {
            url,
            received,
            task,
        }
    }

    /// The bodies answered 200.
    pub fn delivered(&self) -> Vec<serde_json::Value> {
        self.received
            .lock()
            .map(|log| {
                log.iter()
                    .filter(|(s, _)| *s == 200)
                    .map(|(_, b)| b.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn requests(&self) -> usize {
        self.received.lock().map(|log| log.len()).unwrap_or(0)
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A port free right now, for a server that must come back on the same address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
