//! The real `pareto-agent` against the real server, with a fake nvidia-smi and a fake
//! inference metrics page written by the tests.

use pareto_tests::{
    agent_binary, pareto, text, FakeMetrics, Scratch, ScriptedIngest, Server, TestDb,
};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TWO_GPUS: &str = "0, GPU-aa11, NVIDIA H100 80GB HBM3, 50, 40213, 612.30\n\
                        1, GPU-bb22, NVIDIA H100 80GB HBM3, [N/A], 1024, [N/A]";

fn token(db: &TestDb, scope: &str) -> String {
    let output = pareto(
        db,
        &[
            "token",
            "create",
            "--name",
            &format!("agent-{scope}"),
            "--scope",
            scope,
        ],
        "",
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout).trim().to_owned()
}

fn agent(scratch: &Scratch, server: &str, token: &str, extra: &[&str]) -> Command {
    let nvidia_smi = scratch.fake_nvidia_smi(TWO_GPUS);
    let mut command = Command::new(agent_binary());
    command
        .args([
            "--server",
            server,
            "--token",
            token,
            "--host",
            "gpu-node-test",
        ])
        .arg("--nvidia-smi")
        .arg(nvidia_smi)
        .arg("--spool-dir")
        .arg(scratch.0.join("spool"))
        .args(["--deployment", "0=fraud-lgbm-v3"])
        .args(extra)
        .env("PARETO_AGENT_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn spooled(scratch: &Scratch) -> usize {
    std::fs::read_dir(scratch.0.join("spool"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_dry_run_prints_the_batch_for_the_mapped_gpus() {
    let scratch = Scratch::new("agent-dry");
    let output = agent(&scratch, "http://127.0.0.1:9", "", &["--once", "--dry-run"])
        .output()
        .expect("agent runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let batch: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(batch["host"], "gpu-node-test");
    let samples = batch["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 2, "{batch}");
    // GPU 1 has no deployment: it is reported as the host's idle capacity, serving nothing.
    let spare = &samples[0];
    assert_eq!(spare["gpu_uuid"], "GPU-bb22");
    assert!(spare.get("deployment").is_none(), "{spare}");
    assert_eq!(spare["requests"], 0);
    assert_eq!(samples[1]["deployment"], "fraud-lgbm-v3");
    assert_eq!(samples[1]["gpu_uuid"], "GPU-aa11");
    assert_eq!(samples[1]["power_watts"], 612.3);
    assert_eq!(spooled(&scratch), 0, "a dry run neither spools nor sends");
}

#[tokio::test]
async fn a_batch_waits_in_the_spool_while_the_server_is_down() {
    let db = TestDb::new().await;
    let token = token(&db, "ingest");
    let scratch = Scratch::new("agent-spool");
    // Nothing listens on port 9: the batch stays in the spool.
    let down = agent(&scratch, "http://127.0.0.1:9", &token, &["--once"])
        .output()
        .expect("agent runs");
    assert_eq!(down.status.code(), Some(1));
    assert!(
        text(&down.stderr).contains("kept in the spool"),
        "{}",
        text(&down.stderr)
    );
    assert_eq!(spooled(&scratch), 1);

    let server = Server::start(&db).await;
    let up = agent(&scratch, &server.base_url, &token, &["--once"])
        .output()
        .expect("agent runs");
    assert!(up.status.success(), "{}", text(&up.stderr));
    assert_eq!(spooled(&scratch), 0);
    assert_eq!(
        db.scalar("select count(*) from telemetry_batch").await,
        2,
        "the old batch and the new one"
    );
    assert_eq!(
        db.scalar("select count(*) from telemetry_sample").await,
        4,
        "two readings of two GPUs"
    );
    drop(server);
    db.drop().await;
}

/// The batches left in `spool/rejected/`, by their answers.
fn rejected_answers(scratch: &Scratch) -> Vec<String> {
    std::fs::read_dir(scratch.0.join("spool/rejected"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().to_string_lossy().ends_with(".answer.txt"))
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_token_the_server_refuses_keeps_the_batch_in_the_spool() {
    let db = TestDb::new().await;
    let reader = token(&db, "read");
    let server = Server::start(&db).await;
    let scratch = Scratch::new("agent-denied");
    let output = agent(&scratch, &server.base_url, &reader, &["--once"])
        .output()
        .expect("agent runs");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("DOES NOT ACCEPT THIS AGENT'S TOKEN")
            && stderr.contains("kept in the spool"),
        "{stderr}"
    );
    assert_eq!(spooled(&scratch), 1, "a 403 says nothing against the batch");
    assert!(rejected_answers(&scratch).is_empty());

    // With a token that may ingest, the kept batch goes through with the new one.
    let ingest = token(&db, "ingest");
    let output = agent(&scratch, &server.base_url, &ingest, &["--once"])
        .output()
        .expect("agent runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(spooled(&scratch), 0);
    assert_eq!(
        db.scalar("select count(*) from telemetry_sample").await,
        4,
        "two readings of two GPUs"
    );
    drop(server);
    db.drop().await;
}

// Two threads: the agent runs as a blocking child process while the stand-in server answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_arrives_once_through_timeouts_and_a_rotated_token() {
    let ingest = ScriptedIngest::start(&[408, 401, 422]).await;
    let scratch = Scratch::new("agent-scripted");
    // 408: a slow database; 401: the token was rotated; both keep the batch.
    for expected in ["408", "401"] {
        let output = agent(&scratch, &ingest.url, "pareto_token", &["--once"])
            .output()
            .expect("agent runs");
        assert_eq!(output.status.code(), Some(1));
        assert!(
            text(&output.stderr).contains(&format!("kept in the spool: {expected}")),
            "{}",
            text(&output.stderr)
        );
    }
    assert_eq!(spooled(&scratch), 2, "both readings wait");
    // 422 says the oldest batch itself is wrong: it alone is set aside; the others go through.
    let output = agent(&scratch, &ingest.url, "pareto_token", &["--once"])
        .output()
        .expect("agent runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("refused 1 batch"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(spooled(&scratch), 0);
    let answers = rejected_answers(&scratch);
    assert_eq!(answers.len(), 1);
    assert!(answers[0].starts_with("422"), "{answers:?}");
    let output = agent(&scratch, &ingest.url, "pareto_token", &["--once"])
        .output()
        .expect("agent runs");
    assert!(output.status.success(), "{}", text(&output.stderr));

    // Four readings were taken; one batch was refused on its merits, the other three stored once.
    let received = ingest.received.lock().expect("log").clone();
    let statuses: Vec<u16> = received.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses, [408, 401, 422, 202, 202, 202], "{received:?}");
    let refused_id = received[2].1["batch_id"].clone();
    let mut stored: Vec<String> = ingest
        .stored()
        .iter()
        .map(|batch| batch["batch_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(stored.len(), 3);
    assert!(
        !stored.iter().any(|id| *id == refused_id),
        "the refused batch is not resent"
    );
    stored.sort();
    stored.dedup();
    assert_eq!(stored.len(), 3, "no batch arrived twice");
    assert_eq!(scratch.nvidia_smi_calls(), 4);
}

/// Runs the agent, scraping every second with `config` as its file, until the stored samples
/// hold at least `requests` requests; stops it with SIGTERM, checks that it stopped cleanly, and
/// answers the requests stored.
async fn run_until(db: &TestDb, name: &str, config: &str, requests: i64) -> i64 {
    let token = token(db, "ingest");
    let server = Server::start(db).await;
    let scratch = Scratch::new(name);
    let file = scratch.0.join("agent.toml");
    std::fs::write(&file, config).expect("config");
    let config = file;
    let mut child = agent(
        &scratch,
        &server.base_url,
        &token,
        &["--interval", "1", "--config"],
    )
    .arg(&config)
    .spawn()
    .expect("agent starts");
    let stored = "select coalesce(sum(requests), 0)::int8 from telemetry_sample";
    let deadline = Instant::now() + Duration::from_secs(60);
    while db.scalar(stored).await < requests {
        assert!(
            Instant::now() < deadline,
            "the agent's requests did not arrive within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("agent exits");
    assert!(
        status.success(),
        "SIGTERM stops the agent cleanly: {status:?}"
    );
    db.scalar(stored).await
}

#[tokio::test]
async fn a_running_agent_reports_requests_from_the_inference_server() {
    let db = TestDb::new().await;
    let metrics = FakeMetrics::start(100).await;
    // Each scrape adds 100 requests; the first one only sets the baseline.
    let total = run_until(
        &db,
        "agent-run",
        &format!(
            "[[inference]]\ndeployment = \"fraud-lgbm-v3\"\nurl = \"{}\"\nlatency_metric = \"request_latency_seconds\"\n",
            metrics.url
        ),
        300,
    )
    .await;
    assert_eq!(total % 100, 0, "requests are whole counter deltas: {total}");
    let p95 = db
        .scalar("select max(latency_p95_ms)::int8 from telemetry_sample")
        .await;
    assert_eq!(p95, 40, "latency converted from seconds to ms");
    assert_eq!(
        db.scalar("select sum(requests)::int8 from telemetry_hourly")
            .await,
        total,
        "the rollups hold the same requests"
    );
    db.drop().await;
}

#[tokio::test]
async fn an_agent_reads_a_language_models_tokens_from_vllm() {
    let db = TestDb::new().await;
    let llama = "meta-llama/Llama-3.1-8B-Instruct";
    let metrics = FakeMetrics::vllm(100, llama).await;
    let requests = run_until(
        &db,
        "agent-vllm",
        &format!(
            "[[inference]]\ndeployment = \"fraud-lgbm-v3\"\nurl = \"{}\"\npreset = \"vllm\"\nmodel = \"{llama}\"\n",
            metrics.url
        ),
        300,
    )
    .await;
    // Only the Llama model's counters, per request as the page states them.
    assert_eq!(requests % 100, 0, "whole counter deltas: {requests}");
    for (column, per_request) in [
        ("input_tokens", 1_200),
        ("output_tokens", 300),
        ("cached_input_tokens", 400),
    ] {
        let sql = format!("select sum({column})::int8 from telemetry_hourly");
        assert_eq!(db.scalar(&sql).await, requests * per_request, "{column}");
    }
    assert_eq!(
        db.scalar("select max(ttft_p95_ms)::int8 from telemetry_sample")
            .await,
        95,
        "time to first token from its histogram, in ms"
    );
    assert_eq!(
        db.scalar("select max(latency_p95_ms)::int8 from telemetry_sample")
            .await,
        2_425,
        "latency from the e2e histogram"
    );
    db.drop().await;
}

/// A Kubernetes node's DCGM exporter page (its documented labels): card 0 whole; card 1, an
/// H100, cut with MIG into a 3g.40gb slice used by a vLLM pod and a 4g.40gb slice used by a
/// StatefulSet's pod. Slices report the graphics engine's active ratio, not GPU_UTIL, and one
/// its memory as DCGM's int64 blank.
const K8S_DCGM: &str = "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n\
DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-0a\",device=\"nvidia0\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-k8s\",container=\"\",namespace=\"\",pod=\"\"} 55\n\
DCGM_FI_DEV_GPU_UTIL{gpu=\"2\",UUID=\"GPU-2c\",device=\"nvidia2\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-k8s\",container=\"\",namespace=\"\",pod=\"\"} 0\n\
# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge\n\
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"1\",UUID=\"GPU-1b\",device=\"nvidia1\",modelName=\"NVIDIA H100 80GB HBM3\",GPU_I_PROFILE=\"3g.40gb\",GPU_I_ID=\"1\",Hostname=\"gpu-node-k8s\",container=\"vllm\",namespace=\"ml-serving\",pod=\"chat-7d9f8b6c4-x2x9q\"} 0.8\n\
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"1\",UUID=\"GPU-1b\",device=\"nvidia1\",modelName=\"NVIDIA H100 80GB HBM3\",GPU_I_PROFILE=\"4g.40gb\",GPU_I_ID=\"2\",Hostname=\"gpu-node-k8s\",container=\"embedder\",namespace=\"ml-serving\",pod=\"embedder-v2-0\"} 0.3\n\
# TYPE DCGM_FI_DEV_FB_USED gauge\n\
DCGM_FI_DEV_FB_USED{gpu=\"1\",UUID=\"GPU-1b\",modelName=\"NVIDIA H100 80GB HBM3\",GPU_I_PROFILE=\"4g.40gb\",GPU_I_ID=\"2\",Hostname=\"gpu-node-k8s\"} 9223372036854775794\n\
# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n\
DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",UUID=\"GPU-0a\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-k8s\"} 500\n\
DCGM_FI_DEV_POWER_USAGE{gpu=\"1\",UUID=\"GPU-1b\",modelName=\"NVIDIA H100 80GB HBM3\",Hostname=\"gpu-node-k8s\"} 420\n";

#[tokio::test]
async fn mig_slices_mapped_by_pod_rules_add_up_to_their_card() {
    let db = TestDb::new().await;
    let dcgm = FakeMetrics::serving(0, |_| K8S_DCGM.to_owned()).await;
    let llama = "meta-llama/Llama-3.1-8B-Instruct";
    let vllm = FakeMetrics::vllm(100, llama).await;
    // Card 0 by the static table (--deployment 0=fraud-lgbm-v3); the slices by pod rules.
    let config = format!(
        "source = \"dcgm\"\ndcgm_url = \"{}\"\n\
         [[rules]]\nnamespace = \"ml-serving\"\npod_prefix = \"chat-\"\ndeployment = \"chat-llama-8b\"\n\
         [[rules]]\nnamespace = \"ml-serving\"\nkey_from = \"workload\"\n\
         [[inference]]\ndeployment = \"chat-llama-8b\"\nurl = \"{}\"\npreset = \"vllm\"\nmodel = \"{llama}\"\n",
        dcgm.url, vllm.url
    );
    let requests = run_until(&db, "agent-mig", &config, 300).await;
    assert_eq!(requests % 100, 0, "whole counter deltas: {requests}");

    // Held GPU time, in GPU-milliseconds: the 3g and 4g slices hold 3/7 and 4/7 of card 1, and
    // every reading saw both cards for the same interval, so together they hold what card 0 does.
    let held = |key: &str| {
        format!(
            "select (sum(h.gpu_seconds) * 1000)::int8 from telemetry_hourly h \
             join deployment d using (deployment_id) where d.key = '{key}'"
        )
    };
    let card = db.scalar(&held("fraud-lgbm-v3")).await;
    let chat = db.scalar(&held("chat-llama-8b")).await;
    let embedder = db.scalar(&held("embedder-v2")).await;
    assert!(card > 0, "card 0 reported");
    assert!((chat * 7 - card * 3).abs() <= 7, "3/7: {chat} of {card}");
    assert!(
        (chat + embedder - card).abs() <= 1,
        "{chat} + {embedder} = {card}"
    );
    // Priced at the catalog's H100 price, the slices' costs add up to the card's (micro-dollars).
    let cost = |key: &str| {
        format!(
            "select (sum(p.reserved_cost) * 1000000)::int8 from priced_hourly p \
             join deployment d using (deployment_id) where d.key = '{key}'"
        )
    };
    let card_cost = db.scalar(&cost("fraud-lgbm-v3")).await;
    let slices_cost =
        db.scalar(&cost("chat-llama-8b")).await + db.scalar(&cost("embedder-v2")).await;
    assert!(card_cost > 0);
    assert!(
        (slices_cost - card_cost).abs() <= 2,
        "{slices_cost} against {card_cost}"
    );
    // Energy: the slices share card 1's 420 W by their shares, card 0 draws 500 W.
    let energy = |key: &str| {
        format!(
            "select sum(h.energy_joules)::int8 from telemetry_hourly h \
             join deployment d using (deployment_id) where d.key = '{key}'"
        )
    };
    let card_energy = db.scalar(&energy("fraud-lgbm-v3")).await;
    let slices_energy =
        db.scalar(&energy("chat-llama-8b")).await + db.scalar(&energy("embedder-v2")).await;
    assert!(card_energy > 0);
    assert!(
        (slices_energy * 500 - card_energy * 420).abs() <= 1000,
        "{slices_energy} J against {card_energy} J"
    );
    assert_eq!(
        db.scalar(
            "select count(*) from gpu_device where parent_gpu_uuid = 'GPU-1b' \
             and mig_profile in ('3g.40gb', '4g.40gb')"
        )
        .await,
        2,
        "the slices are devices of their card"
    );
    assert_eq!(
        db.scalar("select count(*) from gpu_device where gpu_uuid = 'GPU-1b'")
            .await,
        0,
        "a card cut into slices is reported as its slices only"
    );

    // GPU 2 has no pod and no deployment: its host's idle capacity, as long as card 0.
    let spare = db
        .scalar(
            "select (sum(gpu_seconds) * 1000)::int8 from host_capacity_hourly \
             where host = 'gpu-node-test' and gpu_model = 'NVIDIA H100 80GB HBM3'",
        )
        .await;
    assert!((spare - card).abs() <= 1, "{spare} against {card}");
    assert_eq!(
        db.scalar(
            "select count(*) from gpu_device where gpu_uuid = 'GPU-2c' and deployment_id is null"
        )
        .await,
        1
    );

    // The chat slice's language model, read from vLLM, is priced per million tokens.
    let read = token(&db, "read");
    let server = Server::start(&db).await;
    let deployment: serde_json::Value = pareto_tests::client()
        .get(server.url("/api/v1/deployments/chat-llama-8b?days=1"))
        .bearer_auth(&read)
        .send()
        .await
        .expect("deployment")
        .json()
        .await
        .expect("json");
    let per_million = &deployment["costs"][0]["per_million_tokens_reserved"];
    assert!(
        per_million["output"].as_str().is_some(),
        "cost per 1M output tokens: {deployment}"
    );
    // And a person sees it on the deployment's page, with the slice and its pod.
    let created = pareto(
        &db,
        &[
            "user",
            "create",
            "--email",
            "tom@example.com",
            "--role",
            "viewer",
        ],
        "viewer password 2026
",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let cookie = server
        .sign_in(
            <app::auth::Login as leptos::server_fn::ServerFn>::PATH,
            "tom@example.com",
            "viewer password 2026",
        )
        .await;
    let page = pareto_tests::client()
        .get(server.url("/deployments/chat-llama-8b?days=1"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    for shown in [
        "per 1M output tokens",
        "MIG 3g.40gb (43% of the card)",
        "ml-serving/chat-7d9f8b6c4-x2x9q",
    ] {
        assert!(page.contains(shown), "{shown} on the page: {page}");
    }
    db.drop().await;
}

// Two threads: the dry run blocks one while the stand-in inference server answers on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cpu_machines_deployment_is_priced_at_its_cores_and_the_rest_is_idle_capacity() {
    let db = TestDb::new().await;
    let metrics = FakeMetrics::start(100).await;
    // The kernel's files for an 8-core machine and a systemd unit allotted 4 cores by its quota.
    let machine = Scratch::new("agent-cpu-machine");
    let proc_root = machine.0.join("proc");
    let unit = machine.0.join("cgroup/system.slice/fraud-scorer.service");
    std::fs::create_dir_all(&proc_root).expect("proc");
    std::fs::create_dir_all(&unit).expect("cgroup");
    let cores: String = (0..8)
        .map(|n| format!("cpu{n} 100 0 50 800 0 0 0 0 0 0\n"))
        .collect();
    std::fs::write(
        proc_root.join("stat"),
        format!("cpu  800 0 400 6400 0 0 0 0 0 0\n{cores}intr 0\nctxt 0\n"),
    )
    .expect("stat");
    std::fs::write(
        proc_root.join("meminfo"),
        "MemTotal:       16310544 kB\nMemAvailable:    8155272 kB\n",
    )
    .expect("meminfo");
    std::fs::write(unit.join("cpu.stat"), "usage_usec 123456789\n").expect("cpu.stat");
    std::fs::write(unit.join("cpu.max"), "400000 100000\n").expect("cpu.max");
    std::fs::write(unit.join("memory.current"), "2147483648\n").expect("memory");
    let config = format!(
        "source = \"none\"\n\
         [[inference]]\ndeployment = \"fraud-lgbm-cpu\"\nurl = \"{}\"\n\
         [cpu]\nmachine_type = \"c7i.2xlarge\"\nproc_root = \"{}\"\ncgroup_root = \"{}\"\n\
         [[cpu.deployments]]\ndeployment = \"fraud-lgbm-cpu\"\nunit = \"fraud-scorer.service\"\n",
        metrics.url,
        proc_root.display(),
        machine.0.join("cgroup").display(),
    );
    // A dry run reads the counters twice, a second apart, and prints the machine's two parts.
    let file = machine.0.join("agent.toml");
    std::fs::write(&file, &config).expect("config");
    let output = agent(
        &machine,
        "http://127.0.0.1:9",
        "",
        &["--once", "--dry-run", "--config"],
    )
    .arg(&file)
    .output()
    .expect("agent runs");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let batch: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let samples = batch["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 2, "{batch}");
    assert_eq!(samples[0]["gpu_uuid"], "CPU-gpu-node-test/unallotted");
    assert!(samples[0].get("deployment").is_none());
    assert_eq!(samples[1]["deployment"], "fraud-lgbm-cpu");
    assert_eq!(samples[1]["cpu_cores"], 4.0);
    assert_eq!(samples[1]["gpu_share"], 0.5);
    assert_eq!(samples[1]["gpu_model"], "c7i.2xlarge");
    assert_eq!(samples[1]["memory_used_mib"], 2048.0);

    let requests = run_until(&db, "agent-cpu", &config, 300).await;
    assert!(requests >= 300);

    // Its quota's 4 of the 8 cores: half the machine's time, the other half idle capacity.
    let held = db
        .scalar(
            "select (sum(gpu_seconds) * 1000)::int8 from telemetry_hourly h \
             join deployment d using (deployment_id) \
             where d.key = 'fraud-lgbm-cpu' and h.gpu_model = 'c7i.2xlarge'",
        )
        .await;
    let idle = db
        .scalar(
            "select (sum(gpu_seconds) * 1000)::int8 from host_capacity_hourly \
             where gpu_model = 'c7i.2xlarge'",
        )
        .await;
    assert!(
        held > 0 && (held - idle).abs() <= 1,
        "{held} against {idle}"
    );
    assert_eq!(
        db.scalar(
            "select count(*) from gpu_device \
             where gpu_uuid = 'CPU-gpu-node-test/fraud-lgbm-cpu' and cpu_cores = 4"
        )
        .await,
        1
    );
    // Priced at the catalog's example c7i.2xlarge rate: 0.357 USD an instance-hour.
    let cost = db
        .scalar(
            "select (sum(p.reserved_cost) * 1000000000)::int8 from priced_hourly p \
             join deployment d using (deployment_id) where d.key = 'fraud-lgbm-cpu'",
        )
        .await;
    let expected = held as f64 / 1000.0 / 3600.0 * 0.357 * 1e9;
    assert!(
        (cost as f64 - expected).abs() <= expected * 1e-3 + 10.0,
        "{cost} nano-USD against {expected}"
    );
    db.drop().await;
}
