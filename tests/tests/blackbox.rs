//! The real `pareto` binary, as an operator and an agent use it.

use pareto_tests::{client, pareto, pareto_with_env, text, Server, TestDb};
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
