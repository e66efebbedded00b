//! Alerts through the real binary: a team's billed spend passes 50% and 80% of its budget, the
//! alert loop runs many times, and a local webhook receives exactly one alert per threshold, the
//! first delivery retried after the receiver failed it.

use std::time::{Duration, Instant};

use chrono::Datelike;
use pareto_tests::{pareto, text, Scratch, Server, TestDb, WebhookReceiver};

const HEADER: &str = "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ProviderName,ServiceName,BilledCost,EffectiveCost,BillingCurrency,Tags\n";

async fn evaluations(server: &Server) -> u64 {
    server.alert_evaluations().await
}

#[tokio::test]
async fn a_webhook_gets_exactly_one_alert_per_threshold() {
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let receiver = WebhookReceiver::start(1).await;
    db.fraud_budget(&receiver.url).await;

    // 850 USD billed to the team on the first day of this month: 85% of its budget.
    let today = app::clock::now().date_naive();
    let month = today.with_day(1).expect("first");
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .expect("next");
    let scratch = Scratch::new("alerts");
    let bill = scratch.0.join("this-month.csv");
    std::fs::write(
        &bill,
        format!(
            "{HEADER}acct,{month},{next},{month},{month}T12:00:00Z,Usage,AWS,Amazon EC2,850.00,850.00,USD,\"{{\"\"team\"\":\"\"fraud\"\"}}\"\n"
        ),
    )
    .expect("bill");
    let imported = pareto(&db, &["bills", "import", bill.to_str().expect("path")], "");
    assert!(imported.status.success(), "{}", text(&imported.stderr));

    let server = Server::start_with(
        &db,
        "127.0.0.1:0",
        &[
            ("PARETO_ALERT_INTERVAL", "100ms"),
            ("PARETO_WEBHOOK_RETRY", "100ms"),
            // The receiver listens on loopback, as a chat server inside the network would.
            ("PARETO_WEBHOOK_ALLOW_PRIVATE", "true"),
        ],
    )
    .await;
    // Wait for both threshold alerts to arrive, then let the loop run many more times.
    let deadline = Instant::now() + Duration::from_secs(60);
    let threshold_alerts = |delivered: &[serde_json::Value]| {
        delivered
            .iter()
            .filter(|body| body["alert"]["kind"] == "budget_threshold")
            .count()
    };
    while threshold_alerts(&receiver.delivered()) < 2 {
        assert!(
            Instant::now() < deadline,
            "two threshold alerts within 60 s; got {:?}",
            receiver.received.lock().map(|r| r.clone())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = evaluations(&server).await;
    while evaluations(&server).await < after + 10 {
        assert!(Instant::now() < deadline, "the alert loop kept running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let delivered = receiver.delivered();
    let texts: Vec<String> = delivered
        .iter()
        .filter(|body| body["alert"]["kind"] == "budget_threshold")
        .map(|body| body["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(
        texts.contains(&"Pareto alert: Fraud Detection has spent 850.00 USD of its 1,000.00 USD budget for {MONTH}: past 50%.".replace("{MONTH}", &month.format("%B %Y").to_string())),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.ends_with("past 80%.")), "{texts:?}");
    // Every alert arrived once, whatever else fired (a forecast early in the month).
    let mut ids: Vec<&str> = delivered
        .iter()
        .filter_map(|body| body["alert"]["id"].as_str())
        .collect();
    let all = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), all, "an alert was delivered twice");
    // The receiver failed the first request: it was retried, and both attempts are recorded.
    assert_eq!(receiver.requests(), all + 1);
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let (attempts, failed): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where not delivered) from alert_delivery_attempt",
    )
    .fetch_one(&pool)
    .await
    .expect("attempts");
    assert_eq!((attempts, failed), (all as i64 + 1, 1));
    let alerts: i64 =
        sqlx::query_scalar("select count(*) from alert where kind = 'budget_threshold'")
            .fetch_one(&pool)
            .await
            .expect("alerts");
    assert_eq!(alerts, 2);
    pool.close().await;
    server.kill();
    db.drop().await;
}

/// Answers every request with a 307 to `location`, as a server that moved would.
async fn redirector(location: &str) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/moved", listener.local_addr().expect("address"));
    let location = location.to_owned();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    (url, task)
}

/// Each delivery's attempts so far: (webhook name, status, error).
async fn attempts(pool: &sqlx::PgPool) -> Vec<(String, Option<i32>, Option<String>)> {
    sqlx::query_as(
        "select w.name, a.status_code, a.error from alert_delivery_attempt a
           join webhook w using (webhook_id) order by a.alert_delivery_attempt_id",
    )
    .fetch_all(pool)
    .await
    .expect("attempts")
}

async fn wait_for_attempts(
    pool: &sqlx::PgPool,
    at_least: usize,
) -> Vec<(String, Option<i32>, Option<String>)> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = attempts(pool).await;
        if seen.len() >= at_least {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "{at_least} attempts within 60 s; got {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn webhooks_reach_no_private_address_unless_allowed_and_follow_no_redirect() {
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let receiver = WebhookReceiver::start(0).await;
    let (moved, _redirector) = redirector(&receiver.url).await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    db.execute(&format!(
        "insert into team (team_id, name) values ('6d1f9a1e-0000-4000-8000-000000000001', 'Fraud Detection');
         insert into budget (budget_id, scope, team_id, monthly_amount, currency)
         values ('6d1f9a1e-0000-4000-8000-000000000003', 'team', '6d1f9a1e-0000-4000-8000-000000000001', 1000, 'USD');
         insert into alert (alert_id, kind, budget_id, period_start, threshold, message)
         values ('6d1f9a1e-0000-4000-8000-000000000004', 'budget_threshold', '6d1f9a1e-0000-4000-8000-000000000003',
                 current_date, 80, 'Fraud Detection is past 80%.');
         insert into webhook (name, url) values ('by-name', '{by_name}'), ('moved', '{moved}');
         insert into alert_delivery (alert_id, webhook_id, next_attempt_at)
         select '6d1f9a1e-0000-4000-8000-000000000004', webhook_id, now() from webhook;"
    ))
    .await;
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let fast = [
        ("PARETO_ALERT_INTERVAL", "100ms"),
        ("PARETO_WEBHOOK_RETRY", "100ms"),
    ];

    // By default loopback is refused, whether named (resolved when sent) or written as an address.
    let server = Server::start_with(&db, "127.0.0.1:0", &fast).await;
    let seen = wait_for_attempts(&pool, 2).await;
    drop(server);
    for (name, status, error) in &seen[..2] {
        let error = error.as_deref().unwrap_or_default();
        assert!(status.is_none(), "{name}: nothing was sent: {seen:?}");
        assert!(
            error.starts_with("refused:") && error.contains("loopback or private"),
            "{name}: {error}"
        );
    }
    assert!(
        seen.iter().any(|(name, _, e)| name == "by-name"
            && e.as_deref()
                .unwrap_or_default()
                .contains("localhost resolves to")),
        "{seen:?}"
    );
    assert_eq!(receiver.requests(), 0);

    // Allowed, the named one arrives; the redirect is not followed to the same receiver.
    let mut allowed = fast.to_vec();
    allowed.push(("PARETO_WEBHOOK_ALLOW_PRIVATE", "true"));
    let server = Server::start_with(&db, "127.0.0.1:0", &allowed).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = attempts(&pool).await;
        let redirected = seen
            .iter()
            .any(|(name, status, _)| name == "moved" && *status == Some(307));
        if receiver.requests() == 1 && redirected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{seen:?}, {} received",
            receiver.requests()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = attempts(&pool).await;
    let redirect = seen
        .iter()
        .find(|(name, status, _)| name == "moved" && *status == Some(307))
        .and_then(|(_, _, error)| error.clone())
        .unwrap_or_default();
    assert!(
        redirect.contains("redirects are not followed"),
        "{redirect}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.requests(),
        1,
        "only the named webhook arrived, once"
    );
    drop(server);
    db.drop().await;
}

#[tokio::test]
async fn two_servers_on_one_database_deliver_each_alert_once() {
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let receiver = WebhookReceiver::start_slow(0, Duration::from_millis(300)).await;
    let mut setup = format!(
        "insert into team (team_id, name) values ('6d1f9a1e-0000-4000-8000-000000000001', 'Fraud Detection');
         insert into budget (budget_id, scope, team_id, monthly_amount, currency)
         values ('6d1f9a1e-0000-4000-8000-000000000003', 'team', '6d1f9a1e-0000-4000-8000-000000000001', 1000, 'USD');
         insert into webhook (name, url) values ('#ml-costs', '{}');",
        receiver.url
    );
    // Eight alerts already fired (a threshold each), each due for delivery now.
    for n in 0..8 {
        let threshold = 10 * (n + 1);
        setup.push_str(&format!(
            "insert into alert (alert_id, kind, budget_id, period_start, threshold, message)
             values ('6d1f9a1e-0000-4000-8000-0000000002{n:02}', 'budget_threshold',
                     '6d1f9a1e-0000-4000-8000-000000000003', current_date, {threshold}, 'alert {n}');
             insert into alert_delivery (alert_id, webhook_id, next_attempt_at)
             select '6d1f9a1e-0000-4000-8000-0000000002{n:02}', webhook_id, now() from webhook;"
        ));
    }
    db.execute(&setup).await;
    let env = [
        ("PARETO_ALERT_INTERVAL", "100ms"),
        ("PARETO_WEBHOOK_RETRY", "100ms"),
        ("PARETO_WEBHOOK_ALLOW_PRIVATE", "true"),
    ];
    let first = Server::start_with(&db, "127.0.0.1:0", &env).await;
    let second = Server::start_with(&db, "127.0.0.1:0", &env).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while receiver.delivered().len() < 8 {
        assert!(
            Instant::now() < deadline,
            "{} of 8 delivered",
            receiver.delivered().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both servers go on taking rounds for a while; nothing arrives twice.
    let rounds = evaluations(&first).await + evaluations(&second).await;
    while evaluations(&first).await + evaluations(&second).await < rounds + 10 {
        assert!(Instant::now() < deadline, "the servers kept evaluating");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ids: Vec<String> = receiver
        .delivered()
        .iter()
        .filter_map(|body| body["alert"]["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(receiver.requests(), 8, "one request per alert");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "each alert once");
    drop(first);
    drop(second);
    db.drop().await;
}

/// A deployment breaking a guardrail posts one webhook, however often the alert loop runs.
#[tokio::test]
async fn a_guardrail_breach_posts_one_webhook() {
    let db = TestDb::new().await;
    let migrated = pareto(&db, &["migrate"], "");
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let receiver = WebhookReceiver::start(0).await;
    db.execute(&format!(
        "insert into webhook (name, url) values ('#ml-platform', '{}')",
        receiver.url
    ))
    .await;
    db.execute(
        "insert into guardrail (name, conditions) values ('GPUs kept busy', '{\"mean_utilization >= 30%\"}')",
    )
    .await;
    let created = pareto(
        &db,
        &["token", "create", "--name", "agent", "--scope", "ingest"],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();

    let server = Server::start_with(
        &db,
        "127.0.0.1:0",
        &[
            ("PARETO_ALERT_INTERVAL", "100ms"),
            ("PARETO_WEBHOOK_RETRY", "100ms"),
            ("PARETO_WEBHOOK_ALLOW_PRIVATE", "true"),
        ],
    )
    .await;
    // Six hours of one GPU 10% busy.
    let samples: Vec<serde_json::Value> = (1..=6)
        .map(|hours_ago| {
            serde_json::json!({
                "ts": (app::clock::now() - chrono::TimeDelta::hours(hours_ago)).to_rfc3339(),
                "deployment": "chat-idle", "gpu_uuid": "GPU-idle", "gpu_index": 0,
                "gpu_model": "NVIDIA H100 80GB HBM3", "interval_s": 3600,
                "utilization_pct": 10.0, "memory_used_mib": 1000, "power_watts": 200,
                "requests": 100
            })
        })
        .collect();
    let posted = pareto_tests::client()
        .post(server.url("/api/v1/telemetry"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "batch_id": uuid::Uuid::new_v4(), "host": "gpu-node-1", "samples": samples,
        }))
        .send()
        .await
        .expect("telemetry");
    assert_eq!(posted.status(), 202);

    let deadline = Instant::now() + Duration::from_secs(60);
    let guardrail_alerts = |delivered: &[serde_json::Value]| -> Vec<String> {
        delivered
            .iter()
            .filter(|body| body["alert"]["kind"] == "guardrail")
            .map(|body| body["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    while guardrail_alerts(&receiver.delivered()).is_empty() {
        assert!(Instant::now() < deadline, "a guardrail alert within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = evaluations(&server).await;
    while evaluations(&server).await < after + 10 {
        assert!(Instant::now() < deadline, "the alert loop kept running");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        guardrail_alerts(&receiver.delivered()),
        ["Pareto alert: chat-idle breaks guardrail “GPUs kept busy”: mean utilization 10% (must be ≥ 30%)"]
    );
    server.kill();
    db.drop().await;
}
