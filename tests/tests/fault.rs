//! Everything at once, with faults. Two replicas share one database: an agent streams telemetry to
//! one of them through its spool, bill imports arrive there one after another, and both replicas'
//! alert loops deliver to a webhook, while that replica is SIGKILLed five times
//! (`PARETO_FAULT_KILLS`) and Postgres restarts once. Afterwards every sample is stored exactly
//! once, every import is whole or absent and every acknowledged one is there, every alert reached
//! the webhook, and every page answers on both replicas. Bounded: it gives up after five minutes.

use chrono::Datelike;
use pareto_tests::{
    agent_binary, client, free_port, pareto, text, FakeMetrics, Scratch, Server, TestDb,
    WebhookReceiver,
};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STEP: u64 = 7;
const HEADER: &str = "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags\n";
/// Rows per bill: enough that an import takes a moment, so that kills land in the middle of some.
const BILL_ROWS: usize = 20_000;
const PASSWORD: &str = "correct horse battery staple";

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

/// A FOCUS export of one billing account: `BILL_ROWS` rows this month, 200 USD in all, tagged for
/// the team whose 1,000 USD budget the imports fill.
fn bill(account: usize) -> String {
    let today = app::clock::now().date_naive();
    let month = today.with_day(1).expect("first");
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .expect("next");
    let mut csv = String::with_capacity(BILL_ROWS * 150);
    csv.push_str(HEADER);
    for row in 0..BILL_ROWS {
        csv.push_str(&format!(
            "acct-{account},{month},{next},{month},{month}T12:00:00Z,Usage,AWS,Amazon EC2,0.01,0.01,USD,\"{{\"\"team\"\":\"\"fraud\"\",\"\"row\"\":\"\"{row}\"\"}}\"\n"
        ));
    }
    csv
}

/// What the importer saw: bills acknowledged, attempts cut off by a kill (and sent again), and
/// attempts the replica was not there to take.
#[derive(Debug, Default)]
struct Imports {
    acknowledged: usize,
    cut_off: usize,
    refused_while_down: usize,
    /// Retries answered "imported before": the cut-off attempt had committed.
    found_stored: usize,
}

/// Sends one bill after another to `url` until `stop`, each until it is acknowledged.
async fn import_bills(
    url: String,
    token: String,
    stop: Arc<AtomicBool>,
    deadline: Instant,
) -> Imports {
    let http = client();
    let mut seen = Imports::default();
    let mut account = 0;
    while !stop.load(Ordering::Relaxed) {
        let body = bill(account);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let answer = http
                .post(format!(
                    "{url}/api/v1/bills/import?file_name=acct-{account}.csv"
                ))
                .bearer_auth(&token)
                .body(body.clone())
                .timeout(Duration::from_secs(60))
                .send()
                .await;
            match answer {
                Ok(answer) if answer.status() == 201 => break,
                Ok(answer) if answer.status() == 200 => {
                    if attempt > 1 {
                        seen.found_stored += 1;
                    }
                    break;
                }
                Ok(answer) if answer.status().is_server_error() => seen.cut_off += 1,
                Ok(answer) => panic!(
                    "fault test: the import of acct-{account} was refused: {} {}",
                    answer.status(),
                    answer.text().await.unwrap_or_default()
                ),
                Err(error) if error.is_connect() => seen.refused_while_down += 1,
                Err(_) => seen.cut_off += 1,
            }
            assert!(
                Instant::now() < deadline,
                "fault test: acct-{account} was never imported"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        seen.acknowledged += 1;
        account += 1;
    }
    seen
}

// Several threads, so the fake metrics page and the receivers keep answering while the test waits
// on processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_keep_every_sample_import_and_alert_through_kills_and_a_database_restart() {
    let kills: usize = std::env::var("PARETO_FAULT_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let deadline = Instant::now() + Duration::from_secs(300);
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let token = |name: &str, scope: &str| {
        let created = pareto(
            &db,
            &["token", "create", "--name", name, "--scope", scope],
            "",
        );
        assert!(created.status.success(), "{}", text(&created.stderr));
        text(&created.stdout).trim().to_owned()
    };
    let agent_token = token("fault-agent", "ingest");
    let bills_token = token("fault-finance", "bills");
    let admin = pareto(
        &db,
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--role",
            "admin",
        ],
        PASSWORD,
    );
    assert!(admin.status.success(), "{}", text(&admin.stderr));

    // Spend tagged `fraud` goes to the team; its budget's thresholds fire as the bills arrive.
    let receiver = WebhookReceiver::start(1).await;
    db.fraud_budget(&receiver.url).await;

    let env = [
        ("PARETO_ALERT_INTERVAL", "200ms"),
        ("PARETO_WEBHOOK_RETRY", "100ms"),
        ("PARETO_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    let steady = Server::start_with(&db, "127.0.0.1:0", &env).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut killed = Some(Server::start_with(&db, &listen, &env).await);

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
                &agent_token,
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
    let stop_importing = Arc::new(AtomicBool::new(false));
    let importer = tokio::spawn(import_bills(
        format!("http://{listen}"),
        bills_token.clone(),
        stop_importing.clone(),
        deadline,
    ));

    let mut database_restarts = 0;
    for round in 0..kills {
        let stored_before = db.scalar("select count(*) from telemetry_batch").await;
        let imports_before = db.scalar("select count(*) from bill_import").await;
        wait_for("batches and an import to arrive", deadline, async || {
            db.scalar("select count(*) from telemetry_batch").await >= stored_before + 2
                && db.scalar("select count(*) from bill_import").await > imports_before
        })
        .await;
        if let Some(running) = killed.take() {
            running.kill();
        }
        // The agent keeps reading into its spool while its replica is gone.
        let spooled_before = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
        wait_for(
            "the agent to spool while its replica is down",
            deadline,
            async || std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0) > spooled_before,
        )
        .await;
        if round == 2 && restart_postgres() {
            database_restarts += 1;
        }
        killed = Some(Server::start_with(&db, &listen, &env).await);
    }

    // Stop reading and importing, then let one last agent run send whatever is still spooled.
    let _ = Command::new("kill")
        .args(["-TERM", &streaming.id().to_string()])
        .status();
    assert!(streaming.wait().expect("agent exits").success());
    stop_importing.store(true, Ordering::Relaxed);
    let imports = importer.await.expect("the importer finished");
    let last = agent(true).status().expect("agent runs once");
    assert!(last.success(), "the spool drains once the replica is up");

    // Telemetry: every reading stored once.
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

    // Bills: every import whole, every acknowledged one there, each once, and allocated.
    let stored_imports = db.scalar("select count(*) from bill_import").await;
    assert_eq!(
        stored_imports as usize, imports.acknowledged,
        "every acknowledged bill stored once, and no other: {imports:?}"
    );
    assert_eq!(
        db.scalar(
            "select count(*) from bill_import i
              where i.row_count <> (select count(*) from bill_line l where l.bill_import_id = i.bill_import_id)"
        )
        .await,
        0,
        "no import is half there"
    );
    assert_eq!(
        db.scalar("select count(*) from bill_line").await as usize,
        imports.acknowledged * BILL_ROWS
    );
    assert_eq!(
        db.scalar("select count(*) from bill_allocation").await as usize,
        imports.acknowledged * BILL_ROWS,
        "every row allocated by the rule"
    );

    // Alerts: one per threshold the imported spend passed, each of which reached the webhook; a kill between a delivery and its record can send
    // one twice, which the alert's id lets a receiver see.
    let spent = imports.acknowledged * 200;
    let passed = [50, 80, 100]
        .iter()
        .filter(|pct| spent * 100 >= *pct * 1000)
        .count() as i64;
    wait_for("an alert per threshold passed", deadline, async || {
        db.scalar("select count(*) from alert where kind = 'budget_threshold'")
            .await
            == passed
    })
    .await;
    wait_for("every alert to be delivered", deadline, async || {
        db.scalar(
            "select count(*) from alert a
              where not exists (select 1 from alert_delivery_attempt t
                                 where t.alert_id = a.alert_id and t.delivered)",
        )
        .await
            == 0
    })
    .await;
    let alerts = db.scalar("select count(*) from alert").await;
    let thresholds = db
        .scalar("select count(*) from alert where kind = 'budget_threshold'")
        .await;
    assert_eq!(thresholds, passed, "{spent} USD of a 1,000 USD budget");
    let delivered = receiver.delivered();
    let mut ids: Vec<String> = delivered
        .iter()
        .filter_map(|body| body["alert"]["id"].as_str().map(str::to_owned))
        .collect();
    let deliveries = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as i64, alerts, "every alert reached the webhook");
    let twice = deliveries - ids.len();
    assert!(
        twice <= kills,
        "{twice} alerts came twice: at most one per kill"
    );

    // Pages: every one answers on both replicas.
    let login = <app::auth::Login as leptos::server_fn::ServerFn>::PATH;
    let replicas = [&steady, killed.as_ref().expect("running")];
    for server in replicas {
        let cookie = server.sign_in(login, "ada@example.com", PASSWORD).await;
        for path in [
            "/",
            "/fleet",
            "/experiments",
            "/catalog",
            "/drift",
            "/bills",
            "/bills/rules",
            "/bills/explorer",
            "/bills/reconciliation",
            "/alerts",
            "/reports",
            "/reviews",
            "/settings/teams",
        ] {
            let page = client()
                .get(server.url(path))
                .header("cookie", &cookie)
                .send()
                .await
                .expect("page");
            assert_eq!(page.status(), 200, "{} {path}", server.base_url);
        }
    }

    println!(
        "fault test: {kills} kills of one of two replicas and {database_restarts} Postgres restart; \
         {readings} readings sent, {samples} samples stored, 0 twice; {} bills imported whole \
         ({} rows), {} cut off by a kill and sent again ({} of them had committed), {} refused while \
         the replica was down, 0 half there; {alerts} alerts, each delivered, {twice} twice",
        imports.acknowledged,
        imports.acknowledged * BILL_ROWS,
        imports.cut_off,
        imports.found_stored,
        imports.refused_while_down
    );
    drop(killed);
    drop(steady);
    db.drop().await;
}
