//! schemathesis (the version `scripts/test.sh` installs) fuzzes every operation of each
//! service's published document with all of its checks: no server errors, every status,
//! header and body as documented, data the schema allows accepted and data it forbids
//! refused. The document is used exactly as served; `schemathesis.toml` names the one
//! operation whose documented 422 answers schema-valid input the schema cannot rule out.
//! Each service gets at least [`MIN_REQUESTS`] generated requests, as an authenticated user.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use chat_testkit::{Service, Stack};
use serde_json::Value;

/// Requests per service, at least.
const MIN_REQUESTS: u64 = 2000;

fn schemathesis() -> PathBuf {
    std::env::var_os("SCHEMATHESIS")
        .map(PathBuf::from)
        .expect("set SCHEMATHESIS to the schemathesis executable (scripts/test.sh installs it)")
}

/// Runs schemathesis against `base`'s document, as users it signs up at `stack`'s
/// user-service (`hooks.py`); panics with its output on any failure.
async fn fuzz(stack: &Stack, name: &str, base: &str) {
    let reports = std::env::temp_dir().join(format!("schemathesis-{name}-{}", std::process::id()));
    let output = tokio::process::Command::new(schemathesis())
        .arg("--config-file")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/schemathesis.toml"))
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "all",
            "--max-examples",
            "100",
            "--seed",
            "20261202",
        ])
        .args(["--workers", "1", "--request-timeout", "20", "--no-shrink"])
        .env(
            "SCHEMATHESIS_HOOKS",
            concat!(env!("CARGO_MANIFEST_DIR"), "/hooks.py"),
        )
        .env("FUZZ_USERS_URL", &stack.users)
        .args(["--report", "ndjson", "--report-dir"])
        .arg(&reports)
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .output()
        .await
        .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "schemathesis found problems in {name}:\n{stdout}\n{stderr}"
    );
    let requests = count_requests(&reports);
    let _ = std::fs::remove_dir_all(&reports);
    assert!(
        requests >= MIN_REQUESTS,
        "{name}: only {requests} requests were made\n{stdout}"
    );
    println!("{name}: {requests} requests, no failures");
}

/// The requests schemathesis made, from its event log.
fn count_requests(reports: &std::path::Path) -> u64 {
    let mut requests = 0;
    for entry in std::fs::read_dir(reports).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            let event: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            requests += count_in(&event);
        }
    }
    requests
}

/// Interactions (request and response pairs) recorded anywhere in `event`.
fn count_in(event: &Value) -> u64 {
    match event {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| match (key.as_str(), value) {
                ("interactions", Value::Object(items)) => items.len() as u64,
                _ => count_in(value),
            })
            .sum(),
        Value::Array(items) => items.iter().map(count_in).sum(),
        _ => 0,
    }
}

/// A VAPID key for these tests only, so message-service's push routes are fuzzed enabled.
const VAPID_TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqopxiG+xbbpVjUvm
twhDNOnJHMS11Q3xhrNYv8kXBjShRANCAAQ734HdiWwsMEwlpyBCUg4wB47sWAel
8UUrJut0GlLtv8CE0eWe11VS6OFABiG0GGJOoyhBpEnzVAl7ivfv+5cl
-----END PRIVATE KEY-----
";

/// `target` and what it needs, with sign-ups unlimited (the fuzzer signs up a user whenever
/// it needs a token) and web push on.
async fn stack(target: Service) -> Stack {
    Stack::builder(target)
        .users_config(|config| config.rate_limit_register_ip = "1000000/60".parse().unwrap())
        .messages_config(|config| config.vapid_private_key = Some(VAPID_TEST_KEY.into()))
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_service_matches_its_document() {
    let stack = stack(Service::Users).await;
    fuzz(&stack, "user-service", &stack.users).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friends_service_matches_its_document() {
    let stack = stack(Service::Friends).await;
    fuzz(&stack, "friends-service", &stack.friends).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_service_matches_its_document() {
    let stack = stack(Service::Messages).await;
    fuzz(&stack, "message-service", &stack.messages).await;
}
