//! The real `pareto` binary, as an operator and an agent use it.

use pareto_tests::{binary, client, pareto, pareto_with_env, text, Server, TestDb};
use serde_json::Value;
use std::time::Duration;

const PASSWORD: &str = "correct horse battery\n";

#[tokio::test]
async fn the_server_migrates_a_fresh_database_and_answers_probes() {
    let db = TestDb::new().await;
    let server = Server::start(&db).await;
    let http = client();

    let health = http
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = http
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.text().await.expect("body"), "ready");

    let home = http.get(server.url("/")).send().await.expect("home");
    assert_eq!(home.status(), 303);
    assert_eq!(
        home.headers()["location"],
        "/setup",
        "a fresh install asks for its first admin"
    );
    let setup = http.get(server.url("/setup")).send().await.expect("setup");
    assert!(setup
        .text()
        .await
        .expect("body")
        .contains("Create the first administrator"));

    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    let metrics = metrics.text().await.expect("body");
    assert!(metrics.contains(r#"route="/healthz""#), "{metrics}");
    drop(server);
    db.drop().await;
}

#[tokio::test]
async fn tokens_created_on_the_command_line_authenticate_until_revoked() {
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    assert!(text(&demo.stdout).contains("Loaded the demo organization"));

    let created = pareto(
        &db,
        &[
            "token",
            "create",
            "--name",
            "gpu-node-99",
            "--scope",
            "ingest,read",
            "--team",
            "ml platform",
        ],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout).trim().to_owned();
    assert!(
        token.starts_with("pareto_") && !token.contains(' '),
        "stdout is exactly the token: {token}"
    );
    assert!(text(&created.stderr).contains("shown once"));

    let server = Server::start(&db).await;
    let http = client();
    let whoami = |token: Option<String>| {
        let mut request = http.get(server.url("/api/v1/whoami"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let ok = whoami(Some(token.clone())).await.expect("whoami");
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.expect("json");
    assert_eq!(body["name"], "gpu-node-99");
    assert_eq!(body["scopes"], serde_json::json!(["ingest", "read"]));
    assert_eq!(body["team"], "ML Platform");

    let missing = whoami(None).await.expect("whoami");
    assert_eq!(missing.status(), 401);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = missing.json().await.expect("problem");
    assert_eq!(problem["status"], 401);
    assert!(problem["type"]
        .as_str()
        .unwrap_or_default()
        .starts_with("urn:pareto:problem:"));

    let revoked = pareto(&db, &["token", "revoke", "--name", "gpu-node-99"], "");
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let refused = whoami(Some(token)).await.expect("whoami");
    assert_eq!(
        refused.status(),
        401,
        "a revoked token stops working at once"
    );

    let listed = text(&pareto(&db, &["token", "list"], "").stdout);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("gpu-node-99") && l.contains("revoked")),
        "{listed}"
    );
    drop(server);
    db.drop().await;
}

#[tokio::test]
async fn user_commands_create_change_and_disable_accounts() {
    let db = TestDb::new().await;
    let created = pareto(
        &db,
        &[
            "user",
            "create",
            "--email",
            "Ada@Example.com",
            "--role",
            "admin",
        ],
        PASSWORD,
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert_eq!(
        text(&created.stdout).trim(),
        "created ada@example.com (Ada) as admin"
    );

    let changed = pareto(
        &db,
        &[
            "user",
            "set-role",
            "--email",
            "ada@example.com",
            "--role",
            "lead",
        ],
        "",
    );
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    let disabled = pareto(&db, &["user", "disable", "--email", "ada@example.com"], "");
    assert!(disabled.status.success(), "{}", text(&disabled.stderr));
    let listed = text(&pareto(&db, &["user", "list"], "").stdout);
    assert!(
        listed.lines().any(|l| l.starts_with("ada@example.com")
            && l.contains("lead")
            && l.contains("disabled")),
        "{listed}"
    );
    db.drop().await;
}

/// Every refusal is one line on stderr that names the problem, and a non-zero exit.
#[tokio::test]
async fn bad_input_exits_non_zero_with_a_one_line_reason() {
    let db = TestDb::new().await;
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--role",
                "owner",
            ],
            PASSWORD,
            "unknown role `owner`",
        ),
        (
            &[
                "user",
                "create",
                "--email",
                "not-an-email",
                "--role",
                "admin",
            ],
            PASSWORD,
            "email: An email address",
        ),
        (
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--role",
                "admin",
            ],
            "short\n",
            "password: Use at least 12",
        ),
        (
            &[
                "user",
                "create",
                "--email",
                "a@example.com",
                "--role",
                "admin",
            ],
            "",
            "no password on standard input",
        ),
        (
            &[
                "user",
                "set-role",
                "--email",
                "nobody@example.com",
                "--role",
                "lead",
            ],
            "",
            "No user has the email",
        ),
        (
            &["token", "create", "--name", "x", "--scope", "admin"],
            "",
            "unknown scope `admin`",
        ),
        (
            &[
                "token", "create", "--name", "x", "--scope", "read", "--team", "Nope",
            ],
            "",
            "No team is named Nope",
        ),
        (
            &["token", "revoke", "--name", "ghost"],
            "",
            "No live token is named ghost",
        ),
        (&["frobnicate"], "", "unrecognized subcommand"),
    ];
    for (args, stdin, expected) in cases {
        let output = pareto(&db, args, stdin);
        let stderr = text(&output.stderr);
        assert!(!output.status.success(), "{args:?} should fail");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line, got {stderr:?}"
        );
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr:?}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    let duplicate = pareto(
        &db,
        &[
            "user",
            "create",
            "--email",
            "b@example.com",
            "--role",
            "viewer",
        ],
        PASSWORD,
    );
    assert!(duplicate.status.success());
    let again = pareto(
        &db,
        &[
            "user",
            "create",
            "--email",
            "B@example.com",
            "--role",
            "viewer",
        ],
        PASSWORD,
    );
    assert!(
        text(&again.stderr).contains("b@example.com already has an account"),
        "{}",
        text(&again.stderr)
    );
    db.drop().await;
}

#[tokio::test]
async fn an_unreachable_database_stops_the_server_with_a_clear_message() {
    let output = pareto_with_env(
        &[
            (
                "DATABASE_URL",
                "postgres://pareto:s3cret@127.0.0.1:9/pareto",
            ),
            ("PARETO_LISTEN", "127.0.0.1:0"),
        ],
        &["serve"],
        "",
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach the database at postgres://pareto:***@127.0.0.1:9/pareto"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("s3cret"),
        "the password never appears: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_failed_migration_stops_the_server_with_its_reason() {
    let db = TestDb::new().await;
    // Something already holds a name the first migration needs.
    db.execute("create type user_role as enum ('someone else')")
        .await;
    let output = pareto(&db, &["serve"], "");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("database migration failed"), "{stderr}");
    assert!(
        stderr.contains("user_role"),
        "the reason names the conflict: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    db.drop().await;
}

#[tokio::test]
async fn a_bad_setting_names_its_variable() {
    let output = pareto_with_env(&[("PARETO_LISTEN", "everywhere")], &["serve"], "");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr.trim(),
        "pareto: PARETO_LISTEN: `everywhere` is not an address like 127.0.0.1:3000"
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let db = TestDb::new().await;
    let server = Server::start(&db).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let (exit, logs) = server.wait_exit(Duration::from_secs(20));
    assert!(exit.success(), "exit {exit:?}; logs: {logs:?}");
    assert!(
        logs.iter().any(|line| line.contains("shutting down")),
        "{logs:?}"
    );
    db.drop().await;
}

/// A page or file that failed to load its figures: an HTTP error, or the page's error notice.
async fn failure(
    http: &reqwest::Client,
    server: &Server,
    cookie: &str,
    path: &str,
) -> Option<String> {
    let reply = http
        .get(server.url(path))
        .header("cookie", cookie)
        .send()
        .await;
    let reply = match reply {
        Ok(reply) => reply,
        Err(error) => return Some(format!("{path}: {error}")),
    };
    let status = reply.status();
    let body = reply.text().await.unwrap_or_default();
    if status != 200 {
        return Some(format!("{path}: {status}"));
    }
    body.contains("notice-error")
        .then(|| format!("{path}: shows an error notice"))
}

#[tokio::test]
async fn absurd_figures_are_refused_at_the_edge_and_stored_ones_take_no_page_down() {
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let created = pareto(
        &db,
        &[
            "token",
            "create",
            "--name",
            "pipeline",
            "--scope",
            "write,ingest,read",
        ],
        "",
    );
    let token = text(&created.stdout).trim().to_owned();
    let server =
        Server::start_with(&db, "127.0.0.1:0", &[("PARETO_ALERT_INTERVAL", "100ms")]).await;
    let http = client();
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("database");
    let experiment: uuid::Uuid = sqlx::query_scalar("select experiment_id from experiment limit 1")
        .fetch_one(&pool)
        .await
        .expect("an experiment");

    // At the edge: a price and a request count past any real figure are refused, and name their field.
    let run = serde_json::json!({
        "run_key": "absurd-api", "name": "Absurd API", "metrics": {"f1": 0.9},
        "inference": {"kind": "api_request", "per_request": "100000000000000000000000000"}
    });
    let refused = http
        .post(server.url(&format!("/api/v1/experiments/{experiment}/runs")))
        .bearer_auth(&token)
        .json(&run)
        .send()
        .await
        .expect("runs");
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.expect("problem");
    assert_eq!(
        problem["errors"][0]["path"], "inference.per_request",
        "{problem}"
    );
    let sample = serde_json::json!({
        "ts": app::clock::now().to_rfc3339(), "deployment": "recsys-two-tower-v4",
        "gpu_uuid": "GPU-x", "gpu_index": 0, "gpu_model": "NVIDIA A100 80GB PCIe",
        "interval_s": 3600, "utilization_pct": 50, "memory_used_mib": 1, "power_watts": 1,
        "requests": 5_000_000_000_000_000_000_i64
    });
    let refused = http
        .post(server.url("/api/v1/telemetry"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "batch_id": uuid::Uuid::new_v4(), "host": "h", "samples": [sample] }))
        .send()
        .await
        .expect("telemetry");
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.expect("problem");
    assert_eq!(
        problem["errors"][0]["path"], "samples[0].requests",
        "{problem}"
    );

    // Figures that got in before the bounds existed: a run priced at 1e26 per request, hourly
    // request counts whose sum passes what a bigint holds, and a bill line of 3e22.
    let accepted = http
        .post(server.url(&format!("/api/v1/experiments/{experiment}/runs")))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "run_key": "absurd-api", "name": "Absurd API", "metrics": {"f1": 0.9},
            "inference": {"kind": "api_request", "per_request": "0.002"}
        }))
        .send()
        .await
        .expect("runs");
    assert!(accepted.status().is_success(), "{}", accepted.status());
    db.execute(
        r#"update experiment_run
              set spec = jsonb_set(spec::jsonb, '{inference,per_request}', '"100000000000000000000000000"')::json
            where run_key = 'absurd-api';
           update telemetry_hourly set requests = 4611686018427387904, latency_requests = 4611686018427387904
            where deployment_id = (select deployment_id from deployment where key = 'recsys-two-tower-v4');
           update bill_line set billed_cost = 30000000000000000000000, effective_cost = 30000000000000000000000
            where (bill_import_id, line_number) = (
                select l.bill_import_id, l.line_number from current_bill_line l
                  join bill_allocation a using (bill_import_id, line_number)
                 order by l.charge_period_start desc limit 1);"#,
    )
    .await;

    let cookie = server
        .sign_in(
            <app::auth::Login as leptos::server_fn::ServerFn>::PATH,
            "ada@example.com",
            "demo-password-2026",
        )
        .await;
    let id = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(sql)
                .fetch_one(&pool)
                .await
                .expect(sql)
        }
    };
    let model = id("select model_id::text from model m join model_version v using (model_id) join deployment d using (model_version_id) where d.key = 'recsys-two-tower-v4'").await;
    let version =
        id("select model_version_id::text from deployment where key = 'recsys-two-tower-v4'").await;
    let quarter = app::reports::Quarter::containing(app::clock::now()).to_string();
    let pages = [
        "/".to_owned(),
        "/experiments".into(),
        format!("/experiments/{experiment}"),
        format!("/charts/experiments/{experiment}/frontier.svg?x=cost"),
        "/catalog".into(),
        format!("/models/{model}"),
        format!("/charts/models/{model}/cost.svg"),
        format!("/cards/{version}"),
        format!("/cards/{version}/README.md"),
        "/alerts".into(),
        "/reviews".into(),
        "/bills".into(),
        "/bills/explorer".into(),
        "/bills/reconciliation".into(),
        "/bills/export.csv".into(),
        "/charts/bills/spend.svg".into(),
        "/drift".into(),
        "/drift/recsys-two-tower-v4".into(),
        "/charts/drift/quadrant.svg".into(),
        "/charts/drift/spend.svg".into(),
        "/reports".into(),
        format!("/reports/tco.csv?quarter={quarter}"),
        "/fleet".into(),
        "/deployments/recsys-two-tower-v4".into(),
        "/charts/deployments/recsys-two-tower-v4/cost-per-thousand.svg?days=7".into(),
        "/charts/deployments/recsys-two-tower-v4/requests.svg?days=7".into(),
        "/settings/audit".into(),
    ];
    let mut failures = Vec::new();
    for page in &pages {
        failures.extend(failure(&http, &server, &cookie, page).await);
    }
    for path in [
        format!("/api/v1/experiments/{experiment}"),
        format!("/api/v1/reports/tco?quarter={quarter}&format=json"),
        format!("/api/v1/model-versions/{version}/review"),
    ] {
        let reply = http
            .get(server.url(&path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("api");
        if reply.status() != 200 {
            failures.push(format!("{path}: {}", reply.status()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The alert loop went on through it all.
    let before = server.alert_evaluations().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.alert_evaluations().await < before + 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the alert loop stopped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);
    db.drop().await;
}

#[tokio::test]
async fn a_command_prints_what_it_was_asked_for_and_no_database_notices() {
    let db = TestDb::new().await;
    // The second run finds the migrations table there: Postgres notices that it skips creating it.
    for run in ["first", "second"] {
        let output = std::process::Command::new(binary())
            .arg("migrate")
            .env("DATABASE_URL", db.url())
            .env_remove("PARETO_LOG")
            .output()
            .expect("pareto migrate");
        let stderr = text(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(
            !stderr.contains("already exists") && !stderr.contains("sqlx"),
            "the {run} run printed a database notice: {stderr}"
        );
    }
    db.drop().await;
}
