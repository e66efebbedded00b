//! The agent streams to the server while the server is killed and restarted five times and
//! Postgres restarts once; afterwards every sample the agent produced is stored exactly once.
//! Bounded: it gives up after three minutes.

use pareto_tests::{agent_binary, free_port, pareto, text, FakeMetrics, Scratch, Server, TestDb};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STEP: u64 = 7;

/// Restarts the local Postgres cluster when this machine runs it and we may (root, pg_ctlcluster).
fn restart_postgres() -> bool {
    let url = std::env::var("DATABASE_URL").unwrap_or_default();
    let local = url.is_empty() || url.contains("@127.0.0.1") || url.contains("@localhost");
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .max()
        });
    let (true, Some(version)) = (local, version) else {
        eprintln!("fault test: no local Postgres cluster to restart; skipping that part");
        return false;
    };
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", "restart"])
        .status();
    match status {
        Ok(status) if status.success() => true,
        other => {
            eprintln!("fault test: cannot restart Postgres ({other:?}); skipping that part");
            false
        }
    }
}

async fn wait_for(what: &str, deadline: Instant, mut check: impl AsyncFnMut() -> bool) {
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "fault test: gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// Several threads, so the fake metrics page keeps answering while the test waits on processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_is_stored_exactly_once_through_crashes_and_restarts() {
    let deadline = Instant::now() + Duration::from_secs(180);
    let db = TestDb::new().await;
    let created = pareto(
        &db,
        &[
            "token",
            "create",
            "--name",
            "fault-agent",
            "--scope",
            "ingest",
        ],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let mut server = Some(Server::start_at(&db, &listen).await);

    let metrics = FakeMetrics::start(STEP).await;
    let scratch = Scratch::new("fault");
    let nvidia_smi = scratch.fake_nvidia_smi("0, GPU-f0, NVIDIA L4, 40, 1000, 30");
    let config = scratch.0.join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[[inference]]\ndeployment = \"fault-v1\"\nurl = \"{}\"\n",
            metrics.url
        ),
    )
    .expect("config");
    let spool = scratch.0.join("spool");
    let agent = |once: bool| {
        let mut command = Command::new(agent_binary());
        command
            .args([
                "--server",
                &format!("http://{listen}"),
                "--token",
                &token,
                "--interval",
                "1",
            ])
            .arg("--nvidia-smi")
            .arg(&nvidia_smi)
            .arg("--spool-dir")
            .arg(&spool)
            .args(["--deployment", "0=fault-v1"])
            .env("PARETO_AGENT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if once {
            // The last run only sends what is spooled and one reading without traffic.
            command.arg("--once");
        } else {
            command.arg("--config").arg(&config);
        }
        command
    };
    let mut streaming = agent(false).spawn().expect("agent starts");

    for round in 0..5 {
        let stored_before = db.scalar("select count(*) from telemetry_batch").await;
        wait_for("batches to arrive", deadline, async || {
            db.scalar("select count(*) from telemetry_batch").await >= stored_before + 2
        })
        .await;
        if let Some(running) = server.take() {
            running.kill();
        }
        // The agent keeps reading into its spool while the server is gone.
        let spooled_before = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
        wait_for(
            "the agent to spool while the server is down",
            deadline,
            async || std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0) > spooled_before,
        )
        .await;
        if round == 2 {
            restart_postgres();
        }
        server = Some(Server::start_at(&db, &listen).await);
    }

    // Stop reading, then let one last run send whatever is still spooled.
    let _ = Command::new("kill")
        .args(["-TERM", &streaming.id().to_string()])
        .status();
    assert!(streaming.wait().expect("agent exits").success());
    let last = agent(true).status().expect("agent runs once");
    assert!(last.success(), "the spool drains once the server is up");

    let served = metrics.served.lock().expect("served").clone();
    let readings = scratch.nvidia_smi_calls();
    let samples = db.scalar("select count(*) from telemetry_sample").await;
    let batches = db.scalar("select count(*) from telemetry_batch").await;
    assert!(readings > 10, "the agent took {readings} readings");
    assert_eq!(
        samples, readings,
        "one sample per reading, none lost, none twice"
    );
    assert_eq!(batches, readings);
    // Requests are counter deltas between the streaming agent's scrapes.
    let expected = i64::try_from(served[served.len() - 1] - served[0]).expect("fits");
    let requests = db
        .scalar("select sum(requests)::int8 from telemetry_sample")
        .await;
    assert_eq!(requests, expected, "every request counted once");
    assert_eq!(
        db.scalar("select sum(requests)::int8 from telemetry_hourly")
            .await,
        expected
    );
    assert_eq!(
        db.scalar("select sum(sample_count)::int8 from telemetry_hourly")
            .await,
        samples
    );
    drop(server);
    db.drop().await;
}
