//! `pareto loadtest` against an inference server the test starts: an OpenAI-compatible chat
//! completions endpoint that labels a review positive when it says "great". Its counts, tokens and
//! accuracy are exact whatever the machine's speed; its latency is only reported, never asserted.

use pareto_tests::{pareto, pareto_with_env, text, TestDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A chat completions server answering `status`; its address.
async fn model_server(status: u16) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/v1/chat/completions",
        listener.local_addr().expect("address")
    );
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                // Headers, then as many bytes as Content-Length says.
                let body = loop {
                    let Ok(read) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|line| {
                                let (name, value) = line.split_once(':')?;
                                name.eq_ignore_ascii_case("content-length")
                                    .then(|| value.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break body.to_owned();
                        }
                    }
                };
                let review = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| {
                        v.pointer("/messages/0/content")?
                            .as_str()
                            .map(str::to_owned)
                    })
                    .unwrap_or_default();
                let label = if review.contains("great") {
                    "positive"
                } else {
                    "negative"
                };
                let answer = serde_json::json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "model": "sentiment-small",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": label}}],
                    "usage": {"prompt_tokens": review.split_whitespace().count() + 10,
                              "completion_tokens": 1,
                              "total_tokens": review.split_whitespace().count() + 11}
                })
                .to_string();
                let reason = if status == 200 {
                    "OK"
                } else {
                    "Internal Server Error"
                };
                let response = format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

/// Three labelled reviews, the third labelled against what the model answers.
fn bodies() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pareto-loadtest-bb-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("reviews.jsonl");
    let line = |text: &str, label: &str| {
        serde_json::json!({
            "body": {"model": "sentiment-small", "messages": [{"role": "user", "content": text}]},
            "label": label
        })
        .to_string()
    };
    std::fs::write(
        &path,
        [
            line("a great phone", "positive"),
            line("it broke in a week", "negative"),
            line("great, if you like waiting", "negative"),
        ]
        .join("\n"),
    )
    .expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_test_reports_answers_tokens_and_accuracy_and_stores_a_run() {
    let url = model_server(200).await;
    let body = bodies();
    let body = body.to_str().expect("path");
    // 40 a second for 2 seconds: 80 requests, the three bodies in turn (27, 27 and 26 times);
    // the third's label is wrong on purpose, so 54 of 80 answers match.
    let args = [
        "loadtest",
        "--url",
        &url,
        "--body",
        body,
        "--rate",
        "40/s",
        "--duration",
        "2s",
    ];
    let ran = pareto_with_env(&[], &args, "");
    let out = text(&ran.stdout);
    assert!(ran.status.success(), "{out}{}", text(&ran.stderr));
    for shown in [
        "80 requests to",
        "80 answered, 0 errors",
        "latency (from when each request was due): p50",
        "accuracy: 67.5% (54 of 80 labelled answers)",
        "tokens per answer:",
        "1.0 completion",
    ] {
        assert!(out.contains(shown), "{shown}: {out}");
    }

    // Given an experiment, the figures become its run, priced at the GPU named.
    let db = TestDb::new().await;
    let demo = pareto(&db, &["demo", "--password", "demo-password-2026"], "");
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let mut stored_args = args.to_vec();
    stored_args.extend([
        "--experiment",
        "Review sentiment",
        "--run-key",
        "sentiment-small-l4",
        "--gpu-model",
        "NVIDIA L4",
    ]);
    let stored = pareto(&db, &stored_args, "");
    assert!(stored.status.success(), "{}", text(&stored.stderr));
    assert!(
        text(&stored.stdout)
            .contains("stored as run sentiment-small-l4 of experiment Review sentiment"),
        "{}",
        text(&stored.stdout)
    );
    let pool = sqlx::PgPool::connect(&db.url()).await.expect("connect");
    let spec: serde_json::Value = sqlx::query_scalar(
        "select spec::jsonb from experiment_run where run_key = 'sentiment-small-l4'",
    )
    .fetch_one(&pool)
    .await
    .expect("the stored run");
    assert_eq!(spec["metrics"]["accuracy"], 0.675, "{spec}");
    assert!(
        spec["latency_ms"]["p95"].as_f64().is_some_and(|p| p > 0.0),
        "{spec}"
    );
    assert!(
        spec["throughput_rps"].as_f64().is_some_and(|t| t > 0.0),
        "{spec}"
    );
    assert_eq!(spec["hardware"]["gpu_model"], "NVIDIA L4");
    pool.close().await;
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_cannot_be_reached_or_fails_is_said_before_any_load() {
    let body = bodies();
    let body = body.to_str().expect("path");
    // A port nothing listens on: bound, then let go.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let url = format!("http://{closed}/v1/chat/completions");
    let bad = std::env::temp_dir().join(format!("pareto-bad-{}.jsonl", uuid::Uuid::new_v4()));
    std::fs::write(&bad, "{\"text\": \"fine\"}\nnot json\n").expect("write");
    let failing = model_server(500).await;
    // Each refusal: the endpoint, the bodies, the rate, and what the error says.
    for (endpoint, bodies, rate, said) in [
        (url.as_str(), body, "10/s", format!("cannot reach {url}")),
        (
            failing.as_str(),
            body,
            "10/s",
            "answered the first request with 500 Internal Server Error".to_owned(),
        ),
        // A rate that is not one, and a bodies file with a bad line, are named.
        (
            failing.as_str(),
            body,
            "fast",
            "`fast` is not a rate".to_owned(),
        ),
        (
            failing.as_str(),
            bad.to_str().expect("path"),
            "10/s",
            "line 2: not JSON".to_owned(),
        ),
    ] {
        let ran = pareto_with_env(
            &[],
            &[
                "loadtest",
                "--url",
                endpoint,
                "--body",
                bodies,
                "--rate",
                rate,
                "--duration",
                "1s",
            ],
            "",
        );
        assert!(!ran.status.success(), "{said}");
        assert!(
            text(&ran.stderr).contains(&said),
            "{said}: {}",
            text(&ran.stderr)
        );
    }
}
