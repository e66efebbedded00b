//! Router tests: the real router against a fresh Postgres database per test, driven through
//! `tower::ServiceExt::oneshot`, as a browser or an agent would call it.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use sqlx::PgPool;

use crate::common::*;
use app::audit::Actor;
use app::auth::Role;
use app::state::AuthSettings;

// ---------------------------------------------------------------------------------------------
// Roles

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_viewer_cannot_create_a_token_and_an_admin_can(pool: PgPool) {
    let router = router(pool.clone());
    let viewer = signed_in(&pool, Role::Viewer).await;
    let admin = signed_in(&pool, Role::Admin).await;
    let form = [("name", "gpu-node-1"), ("scope_ingest", "on")];

    let refused = call::<app::tokens::CreateToken>(&router, Some(&viewer), &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("admin"), "{}", refused.body);
    assert_eq!(count(&pool, "api_token").await, 0);

    let created = call::<app::tokens::CreateToken>(&router, Some(&admin), &form).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let secret = created.json()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert!(secret.starts_with("pareto_"));
    assert_eq!(count(&pool, "api_token").await, 1);
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from api_token")
        .fetch_one(&pool)
        .await
        .expect("hash");
    assert_eq!(
        stored,
        app::auth::secret::sha256(&secret),
        "only the hash is stored"
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn each_role_can_do_exactly_what_it_should(pool: PgPool) {
    let router = router(pool.clone());
    let team_id: uuid::Uuid = app::teams::store::create(&pool, &Actor::System, "Search", "")
        .await
        .expect("team");
    let other = create_user(&pool, "other@example.com", Role::Member).await;
    let cookies = [
        (Role::Viewer, signed_in(&pool, Role::Viewer).await),
        (Role::Member, signed_in(&pool, Role::Member).await),
        (Role::Lead, signed_in(&pool, Role::Lead).await),
        (Role::Admin, signed_in(&pool, Role::Admin).await),
    ];
    for (role, cookie) in &cookies {
        let cookie = Some(cookie.as_str());
        let suffix = role.as_str();
        let team_name = format!("Team of {suffix}");
        let email = format!("new-{suffix}@example.com");
        let token_name = format!("token-{suffix}");
        let team = team_id.to_string();
        let user = other.to_string();
        let results = [
            (
                "list teams",
                Role::Viewer,
                call::<app::teams::ListTeams>(&router, cookie, &[])
                    .await
                    .status,
            ),
            (
                "overview",
                Role::Viewer,
                call::<app::overview::LoadDashboard>(&router, cookie, &[])
                    .await
                    .status,
            ),
            (
                "list users",
                Role::Lead,
                call::<app::users::ListUsers>(&router, cookie, &[])
                    .await
                    .status,
            ),
            (
                "create team",
                Role::Lead,
                call::<app::teams::CreateTeam>(
                    &router,
                    cookie,
                    &[("name", &team_name), ("description", "")],
                )
                .await
                .status,
            ),
            (
                "add member",
                Role::Lead,
                call::<app::teams::AddTeamMember>(
                    &router,
                    cookie,
                    &[("team_id", &team), ("user_id", &user)],
                )
                .await
                .status,
            ),
            (
                "remove member",
                Role::Lead,
                call::<app::teams::RemoveTeamMember>(
                    &router,
                    cookie,
                    &[("team_id", &team), ("user_id", &user)],
                )
                .await
                .status,
            ),
            (
                "create user",
                Role::Admin,
                call::<app::users::CreateUser>(
                    &router,
                    cookie,
                    &[
                        ("email", &email),
                        ("display_name", "New"),
                        ("password", PASSWORD),
                        ("role", "viewer"),
                    ],
                )
                .await
                .status,
            ),
            (
                "set role",
                Role::Admin,
                call::<app::users::SetUserRole>(
                    &router,
                    cookie,
                    &[("user_id", &user), ("role", "lead")],
                )
                .await
                .status,
            ),
            (
                "list tokens",
                Role::Admin,
                call::<app::tokens::ListTokens>(&router, cookie, &[])
                    .await
                    .status,
            ),
            (
                "create token",
                Role::Admin,
                call::<app::tokens::CreateToken>(
                    &router,
                    cookie,
                    &[("name", &token_name), ("scope_read", "on")],
                )
                .await
                .status,
            ),
        ];
        for (action, needs, status) in results {
            let expected = if *role >= needs {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "{role} / {action}");
        }
    }
    // The refused calls wrote nothing: one team created by each of lead and admin, plus the first.
    assert_eq!(count(&pool, "team").await, 3);
    assert_eq!(count(&pool, "api_token").await, 1);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn server_functions_refuse_callers_without_a_session(pool: PgPool) {
    let router = router(pool.clone());
    create_user(&pool, "someone@example.com", Role::Admin).await;
    let reply =
        call::<app::teams::CreateTeam>(&router, None, &[("name", "Sneaky"), ("description", "")])
            .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json(), Value::String("Unauthenticated".into()));
    assert_eq!(count(&pool, "team").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn an_admin_cannot_demote_or_disable_themselves(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let admin_id: uuid::Uuid = sqlx::query_scalar("select user_id from app_user")
        .fetch_one(&pool)
        .await
        .expect("id");
    let id = admin_id.to_string();
    let demote = call::<app::users::SetUserRole>(
        &router,
        Some(&admin),
        &[("user_id", &id), ("role", "viewer")],
    )
    .await;
    assert_eq!(demote.status, StatusCode::FORBIDDEN, "{}", demote.body);
    let disable = call::<app::users::SetUserDisabled>(
        &router,
        Some(&admin),
        &[("user_id", &id), ("disabled", "true")],
    )
    .await;
    assert_eq!(disable.status, StatusCode::FORBIDDEN, "{}", disable.body);
}

// ---------------------------------------------------------------------------------------------
// Cross-site requests

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_cross_site_post_is_refused_and_writes_nothing(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let form = [("name", "Evil"), ("description", "")];
    let refused =
        call_from::<app::teams::CreateTeam>(&router, Some(&admin), &form, "cross-site").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&pool, "team").await, 0);

    // An older browser without Fetch Metadata: the Origin header decides.
    let request = Request::post(app::teams::CreateTeam::PATH)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &admin)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "https://attacker.example")
        .body(Body::from("name=Evil&description="))
        .expect("request");
    assert_eq!(send(&router, request).await.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&pool, "team").await, 0);

    let allowed = call::<app::teams::CreateTeam>(&router, Some(&admin), &form).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
}

// ---------------------------------------------------------------------------------------------
// Sessions

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn pages_send_people_to_setup_then_to_sign_in(pool: PgPool) {
    let router = router(pool.clone());
    let first = get(&router, "/", None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&first), "/setup");
    assert_eq!(get(&router, "/setup", None).await.status, StatusCode::OK);

    let cookie = signed_in(&pool, Role::Viewer).await;
    assert_eq!(
        location(&get(&router, "/setup", None).await),
        "/login",
        "setup is gone once a user exists"
    );
    assert_eq!(
        location(&get(&router, "/settings/teams", None).await),
        "/login"
    );
    let page = get(&router, "/settings/teams", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<title>Teams · Pareto</title>"),
        "{}",
        page.body
    );
    let missing = get(&router, "/no/such/page", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("This page does not exist"));
}

/// A page for something that does not exist says so, with status 404; deployments are named by
/// their key in every address.
#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn pages_of_things_that_do_not_exist_answer_404(pool: PgPool) {
    let router = router(pool.clone());
    let cookie = signed_in(&pool, Role::Viewer).await;
    sqlx::query(
        "with m as (insert into model (name) values ('Ranker') returning model_id),
              v as (insert into model_version (model_id, version) select model_id, 'v1' from m
                    returning model_version_id)
         insert into deployment (key, model_version_id) select 'ranker-prod', model_version_id from v",
    )
    .execute(&pool)
    .await
    .expect("deployment");
    for path in ["/drift/ranker-prod", "/deployments/ranker-prod"] {
        let page = get(&router, path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(page.body.contains("ranker-prod"), "{path}");
    }
    let nobody = uuid::Uuid::new_v4();
    for path in [
        "/drift/no-such-deployment".to_owned(),
        "/deployments/no-such-deployment".into(),
        format!("/models/{nobody}"),
        format!("/cards/{nobody}"),
        format!("/experiments/{nobody}"),
        "/experiments/not-an-id".into(),
    ] {
        let page = get(&router, &path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.body);
        assert!(
            page.body.contains("notice-error"),
            "{path} says what is missing"
        );
    }
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn setup_creates_the_first_admin_once_and_signs_them_in(pool: PgPool) {
    let router = router(pool.clone());
    let form = [
        ("email", "Ada@Example.com"),
        ("display_name", "Ada"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let reply = call::<app::auth::SetupAdmin>(&router, None, &form).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let role: Role =
        sqlx::query_scalar("select role from app_user where email = 'ada@example.com'")
            .fetch_one(&pool)
            .await
            .expect("admin");
    assert_eq!(role, Role::Admin);

    let again = call::<app::auth::SetupAdmin>(&router, None, &form).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(count(&pool, "app_user").await, 1);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn sign_in_starts_a_session_and_sign_out_ends_it(pool: PgPool) {
    let router = router(pool.clone());
    create_user(&pool, "ada@example.com", Role::Member).await;
    let reply = call::<app::auth::Login>(
        &router,
        None,
        &[("email", " ADA@example.com "), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let set_cookie = reply
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("cookie");
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    assert_eq!(
        get(&router, "/", Some(&cookie)).await.status,
        StatusCode::OK
    );

    let out = call::<app::auth::Logout>(&router, Some(&cookie), &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(count(&pool, "session").await, 0);
    assert_eq!(location(&get(&router, "/", Some(&cookie)).await), "/login");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn expired_and_idle_sessions_are_refused(pool: PgPool) {
    let router = router(pool.clone());
    let cookie = signed_in(&pool, Role::Admin).await;
    assert_eq!(
        call::<app::teams::ListTeams>(&router, Some(&cookie), &[])
            .await
            .status,
        StatusCode::OK
    );

    sqlx::query("update session set last_seen_at = now() - interval '3 hours'")
        .execute(&pool)
        .await
        .expect("age");
    let idle = call::<app::teams::ListTeams>(&router, Some(&cookie), &[]).await;
    assert_eq!(
        idle.status,
        StatusCode::UNAUTHORIZED,
        "idle for longer than the 2 h default"
    );
    assert_eq!(
        count(&pool, "session").await,
        0,
        "an expired session is deleted"
    );

    let cookie = {
        let user_id: uuid::Uuid = sqlx::query_scalar("select user_id from app_user")
            .fetch_one(&pool)
            .await
            .expect("id");
        let id = app::auth::session::create(&pool, &AuthSettings::default(), user_id, "", "")
            .await
            .expect("session");
        format!("pareto_session={id}")
    };
    sqlx::query("update session set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("expire");
    assert_eq!(
        call::<app::teams::ListTeams>(&router, Some(&cookie), &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "past the absolute expiry"
    );
    let page = get(&router, "/", Some(&cookie)).await;
    assert_eq!(location(&page), "/login");
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn disabling_a_user_ends_their_sessions(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let member = signed_in(&pool, Role::Member).await;
    let member_id: uuid::Uuid =
        sqlx::query_scalar("select user_id from app_user where role = 'member'")
            .fetch_one(&pool)
            .await
            .expect("id");
    let id = member_id.to_string();
    let reply = call::<app::users::SetUserDisabled>(
        &router,
        Some(&admin),
        &[("user_id", &id), ("disabled", "true")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        call::<app::teams::ListTeams>(&router, Some(&member), &[])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let login = call::<app::auth::Login>(
        &router,
        None,
        &[("email", "member@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        login.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a disabled user cannot sign in"
    );
}

// ---------------------------------------------------------------------------------------------
// Sign-in throttling

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn repeated_wrong_passwords_throttle_the_account(pool: PgPool) {
    let router = router(pool.clone());
    create_user(&pool, "ada@example.com", Role::Member).await;
    for attempt in 1..=5 {
        let reply = call::<app::auth::Login>(
            &router,
            None,
            &[("email", "ada@example.com"), ("password", "wrong guess")],
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}: {}",
            reply.body
        );
        assert!(reply.body.contains("do not match"), "{}", reply.body);
    }
    // Now even the right password waits.
    let throttled = call::<app::auth::Login>(
        &router,
        None,
        &[("email", "ada@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        throttled.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        throttled.body
    );
    let seconds = throttled.json()["TooManyAttempts"]["retry_after_seconds"]
        .as_u64()
        .expect("seconds");
    assert!(seconds > 800 && seconds <= 900, "{seconds}");
    assert_eq!(
        throttled
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok()),
        Some(seconds.to_string().as_str())
    );
    assert_eq!(count(&pool, "session").await, 0);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn many_failures_from_one_address_throttle_every_account(pool: PgPool) {
    let auth = AuthSettings {
        login_max_failures_per_address: 3,
        ..AuthSettings::default()
    };
    let router = router_with(pool.clone(), auth);
    create_user(&pool, "ada@example.com", Role::Member).await;
    for n in 0..3 {
        let email = format!("guess{n}@example.com");
        call::<app::auth::Login>(
            &router,
            None,
            &[("email", &email), ("password", "nope nope nope")],
        )
        .await;
    }
    let reply = call::<app::auth::Login>(
        &router,
        None,
        &[("email", "ada@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn attempts_sent_side_by_side_cannot_pass_the_limit(pool: PgPool) {
    let auth = AuthSettings {
        login_max_failures_per_account: 3,
        ..AuthSettings::default()
    };
    let router = router_with(pool.clone(), auth);
    create_user(&pool, "ada@example.com", Role::Member).await;
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                call::<app::auth::Login>(
                    &router,
                    None,
                    &[("email", "ada@example.com"), ("password", "wrong guess")],
                )
                .await
                .status
            })
        })
        .collect();
    let mut checked = 0;
    for attempt in attempts {
        let status = attempt.await.expect("answered");
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
        checked += usize::from(status == StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(
        checked <= 3,
        "{checked} passwords were checked; the limit is 3"
    );
    assert!(count(&pool, "login_failure").await <= 3);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn behind_a_proxy_the_address_it_appended_is_the_one_throttled(pool: PgPool) {
    let router = router_configured(pool.clone(), |config| {
        config.trust_proxy_headers = true;
        config.auth.login_max_failures_per_address = 2;
    });
    let login = |email: &str, forwarded: &str| {
        Request::post(<app::auth::Login as leptos::server_fn::ServerFn>::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header("x-forwarded-for", forwarded)
            .body(Body::from(serde_urlencoded_form(&[
                ("email", email),
                ("password", "nope nope nope"),
            ])))
            .expect("request")
    };
    // The client writes its own first entry each time; the proxy appends the real address.
    for n in 0..2 {
        let forged = format!("198.51.100.{n}, 203.0.113.9");
        let reply = send(&router, login(&format!("guess{n}@example.com"), &forged)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
    }
    let reply = send(
        &router,
        login("guess9@example.com", "198.51.100.77, 203.0.113.9"),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    let addresses: Vec<String> =
        sqlx::query_scalar("select distinct client_address from login_failure")
            .fetch_all(&pool)
            .await
            .expect("failures");
    assert_eq!(addresses, ["203.0.113.9"]);
}

// ---------------------------------------------------------------------------------------------
// Validation

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn bad_form_input_answers_with_field_errors_and_writes_nothing(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let users_before = count(&pool, "app_user").await;
    let audit_before = count(&pool, "audit_log").await;

    let reply = call::<app::users::CreateUser>(
        &router,
        Some(&admin),
        &[
            ("email", "not-an-email"),
            ("display_name", ""),
            ("password", "short"),
            ("role", "owner"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = reply.json()["Validation"]
        .as_array()
        .expect("field errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["email", "display_name", "password", "role"]);

    let team = call::<app::teams::CreateTeam>(
        &router,
        Some(&admin),
        &[("name", "  "), ("description", "")],
    )
    .await;
    assert_eq!(team.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        team.json()["Validation"][0]["message"],
        "Enter a team name."
    );

    let token = call::<app::tokens::CreateToken>(&router, Some(&admin), &[("name", "agent")]).await;
    assert_eq!(token.json()["Validation"][0]["field"], "scopes");

    assert_eq!(count(&pool, "app_user").await, users_before);
    assert_eq!(count(&pool, "team").await, 0);
    assert_eq!(count(&pool, "api_token").await, 0);
    assert_eq!(count(&pool, "audit_log").await, audit_before);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn duplicate_names_are_field_errors(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    let form = [("name", "Fraud"), ("description", "")];
    assert_eq!(
        call::<app::teams::CreateTeam>(&router, Some(&admin), &form)
            .await
            .status,
        StatusCode::OK
    );
    let again = call::<app::teams::CreateTeam>(
        &router,
        Some(&admin),
        &[("name", "fraud"), ("description", "")],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["Validation"][0]["field"], "name");
}

// ---------------------------------------------------------------------------------------------
// Audit

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn changes_to_teams_users_and_tokens_are_audited(pool: PgPool) {
    let router = router(pool.clone());
    let admin = signed_in(&pool, Role::Admin).await;
    call::<app::teams::CreateTeam>(
        &router,
        Some(&admin),
        &[("name", "Fraud"), ("description", "")],
    )
    .await;
    let created = call::<app::tokens::CreateToken>(
        &router,
        Some(&admin),
        &[("name", "n1"), ("scope_ingest", "on")],
    )
    .await;
    let token_id = created.json()["token"]["api_token_id"]
        .as_str()
        .expect("id")
        .to_owned();
    call::<app::tokens::RevokeToken>(&router, Some(&admin), &[("api_token_id", &token_id)]).await;
    let actions: Vec<(String, String)> =
        sqlx::query_as("select action, actor_label from audit_log where actor_label = 'admin@example.com' order by audit_log_id")
            .fetch_all(&pool)
            .await
            .expect("audit");
    let actions: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["team.create", "token.create", "token.revoke"]);
    let detail: String =
        sqlx::query_scalar("select detail::text from audit_log where action = 'token.create'")
            .fetch_one(&pool)
            .await
            .expect("detail");
    assert!(
        !detail.contains("pareto_"),
        "the audit log never holds the secret: {detail}"
    );
}

// ---------------------------------------------------------------------------------------------
// The agent API

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_api_answers_problem_json_for_missing_bad_and_revoked_tokens(pool: PgPool) {
    let router = router(pool.clone());
    let created = app::tokens::store::create(
        &pool,
        &Actor::System,
        "gpu-node-17",
        &[app::tokens::Scope::Ingest],
        None,
    )
    .await
    .expect("token");

    let ok = bearer(&router, "/api/v1/whoami", &created.secret).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["name"], "gpu-node-17");
    assert_eq!(ok.json()["scopes"], serde_json::json!(["ingest"]));

    let missing = get(&router, "/api/v1/whoami", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(
        missing
            .headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    assert_eq!(missing.json()["status"], 401);

    assert_eq!(
        bearer(&router, "/api/v1/whoami", "pareto_forged")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    app::tokens::store::revoke(&pool, &Actor::System, created.token.api_token_id)
        .await
        .expect("revoke");
    let revoked = bearer(&router, "/api/v1/whoami", &created.secret).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert!(revoked.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("revoked"));

    let unknown = get(&router, "/api/v1/nothing-here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["status"], 404);
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn probes_and_metrics_answer(pool: PgPool) {
    let router = router(pool.clone());
    assert_eq!(get(&router, "/healthz", None).await.body, "ok");
    assert_eq!(get(&router, "/readyz", None).await.status, StatusCode::OK);
    let metrics = get(&router, "/metrics", None).await;
    assert!(
        metrics.body.contains("http_requests_total"),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains(r#"route="/readyz""#),
        "{}",
        metrics.body
    );
    assert!(
        metrics.body.contains("db_pool_connections"),
        "{}",
        metrics.body
    );
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn a_form_posted_without_scripts_returns_to_its_page(pool: PgPool) {
    let router = router(pool.clone());
    create_user(&pool, "ada@example.com", Role::Member).await;
    let request = Request::post(app::auth::Login::PATH)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .header(header::REFERER, "http://127.0.0.1:3000/login")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(
            "email=ada%40example.com&password=wrong+password+here",
        ))
        .expect("request");
    let reply = send(&router, request).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    // Back to the page, carrying the error for the form to show.
    assert!(
        location(&reply).starts_with("http://127.0.0.1:3000/login?"),
        "{}",
        location(&reply)
    );
    assert!(location(&reply).contains("__err="), "{}", location(&reply));
    assert_eq!(count(&pool, "session").await, 0);
}
