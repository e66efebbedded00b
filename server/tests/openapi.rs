//! The API's description: every route the router mounts is in `/api/v1/openapi.json`, every
//! route it describes answers, and the scope it names is the one the router enforces.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

use crate::common::*;
use app::tokens::Scope;

/// Every `(method, path)` the document describes, paths below `/api/v1`.
fn operations(document: &Value) -> Vec<(Method, String, Vec<String>)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let scopes = operation["security"]
                .as_array()
                .and_then(|s| s.first())
                .and_then(|s| s["token"].as_array())
                .map(|s| {
                    s.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            found.push((
                method.to_uppercase().parse().expect("a method"),
                path.clone(),
                scopes,
            ));
        }
    }
    found
}

/// A path with its parameters filled in.
fn concrete(path: &str) -> String {
    format!(
        "/api/v1{}",
        path.replace("{id}", &uuid::Uuid::new_v4().to_string())
            .replace("{key}", "no-such-deployment")
    )
}

async fn send_as(router: &axum::Router, method: &Method, path: &str, token: Option<&str>) -> Reply {
    let mut request = Request::builder().method(method.clone()).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = if method == Method::GET {
        Body::empty()
    } else {
        request = request.header(header::CONTENT_TYPE, "application/json");
        Body::from("{}")
    };
    send(router, request.body(body).expect("request")).await
}

/// Every `$ref` in the document, which must each name one of its schemas or responses.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                match (name.as_str(), field) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => references(field, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn every_route_is_described_and_answers_with_the_scope_it_names(pool: PgPool) {
    let router = router(pool.clone());
    let reply = get(&router, "/api/v1/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let document = reply.json();
    assert_eq!(document["openapi"], "3.1.0");

    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference.trim_start_matches('#');
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} names nothing in the document"
        );
    }
    // The bodies are the code's own types, with their fields.
    let run = &document["components"]["schemas"]["RunSpec"]["properties"];
    for field in [
        "run_key",
        "metrics",
        "latency_ms",
        "inference",
        "derived_from",
    ] {
        assert!(run.get(field).is_some(), "RunSpec lacks {field}: {run}");
    }
    assert!(
        document["components"]["schemas"]["TelemetryBatch"]["properties"]["samples"].is_object()
    );

    let operations = operations(&document);
    assert!(operations.len() >= 20, "{operations:?}");
    for (method, path, scopes) in &operations {
        let url = concrete(path);
        let anonymous = send_as(&router, method, &url, None).await;
        if path == "/openapi.json" {
            assert_eq!(anonymous.status, StatusCode::OK);
            continue;
        }
        // Mounted: a route the router lacks would fall through to "no such API endpoint".
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}: {}",
            anonymous.body
        );
        assert_eq!(
            anonymous.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let [scope] = scopes.as_slice() else {
            assert!(scopes.is_empty(), "{method} {path} names {scopes:?}");
            continue;
        };
        let scope: Scope = serde_json::from_value(Value::String(scope.clone())).expect("a scope");
        let others: Vec<Scope> = Scope::ALL.into_iter().filter(|s| *s != scope).collect();
        let (_, without) = token(&pool, &format!("without {path} {method}"), &others).await;
        let refused = send_as(&router, method, &url, Some(&without)).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            refused.body
        );
        refused.shows(&[&format!("lacks the `{}` scope", scope.as_str())]);
        let (_, with) = token(&pool, &format!("with {path} {method}"), &[scope]).await;
        let allowed = send_as(&router, method, &url, Some(&with)).await;
        assert_ne!(
            allowed.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            allowed.body
        );
        assert_ne!(allowed.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }

    // And nothing is mounted beside the description: every path the server's code gives the
    // router by hand below /api/v1 is one it describes.
    let described: Vec<String> = operations.iter().map(|(_, path, _)| path.clone()).collect();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![source.join("router.rs")];
    for entry in std::fs::read_dir(source.join("api")).expect("api folder") {
        files.push(entry.expect("entry").path());
    }
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        let api_folder = file.parent().is_some_and(|p| p.ends_with("api"));
        for (at, _) in text.match_indices(".route(") {
            let rest = text[at + ".route(".len()..].trim_start();
            let Some(literal) = rest.strip_prefix('"') else {
                continue;
            };
            let path = &literal[..literal.find('"').expect("a closing quote")];
            let below_api = match path.strip_prefix("/api/v1") {
                Some(below) => below,
                None if api_folder => path,
                None => continue,
            };
            assert!(
                described.iter().any(|d| d == below_api),
                "{} mounts /api/v1{below_api} outside the API's description (mount it with `openapi::Api::route`)",
                file.display()
            );
        }
    }
}

#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn the_description_needs_no_token_and_names_every_problem(pool: PgPool) {
    let router = router(pool);
    let document = get(&router, "/api/v1/openapi.json", None).await.json();
    let experiments = &document["paths"]["/experiments/{id}/runs"]["post"];
    assert_eq!(experiments["security"][0]["token"][0], "write");
    for status in [
        "201", "200", "400", "401", "403", "404", "409", "413", "422",
    ] {
        assert!(
            experiments["responses"].get(status).is_some(),
            "addRuns lacks {status}"
        );
    }
    let telemetry = &document["paths"]["/telemetry"]["post"];
    assert_eq!(telemetry["security"][0]["token"][0], "ingest");
    assert!(telemetry["responses"].get("429").is_some());
    let problem = &document["components"]["schemas"]["Problem"]["properties"];
    for field in ["type", "title", "status", "detail", "errors"] {
        assert!(problem.get(field).is_some(), "Problem lacks {field}");
    }
    assert!(
        document["paths"]["/bills/import"]["post"]["requestBody"]["content"]["text/csv"]
            .is_object()
    );
}
