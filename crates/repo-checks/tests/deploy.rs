//! The deployment files at the repository root: the compose file validates (with
//! `docker-compose config`, as no container engine runs here) and the images follow the
//! rules docs/deploy.md promises.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn compose_config(env: &[(&str, &str)]) -> std::process::Output {
    Command::new("docker-compose")
        .arg("config")
        .current_dir(root())
        .env_remove("SERVICE_TOKEN")
        .env_remove("MYSQL_ROOT_PASSWORD")
        .env_remove("MYSQL_PASSWORD")
        .envs(env.iter().copied())
        .output()
        .expect("docker-compose is installed (scripts/test.sh installs it)")
}

#[test]
fn the_compose_file_validates_and_demands_its_secrets() {
    let ok = compose_config(&[
        ("SERVICE_TOKEN", "0123456789abcdef0123456789abcdef"),
        ("MYSQL_ROOT_PASSWORD", "root-secret"),
        ("MYSQL_PASSWORD", "app-secret"),
    ]);
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{stderr}");
    let config = String::from_utf8_lossy(&ok.stdout);
    for part in [
        "mysql:8.4",
        "mongo:7",
        "redis:7",
        "--replSet",
        "user-service:",
        "friends-service:",
        "message-service:",
        // Both keys are secrets, not variables.
        "JWT_PRIVATE_KEY_FILE: /run/secrets/jwt_signing_key",
        "VAPID_PRIVATE_KEY_FILE: /run/secrets/vapid_key",
    ] {
        assert!(
            config.contains(part),
            "{part} missing from the compose file"
        );
    }
    assert_eq!(config.matches("condition: service_healthy").count(), 13);
    assert!(config.matches("healthcheck:").count() >= 7);

    let missing = compose_config(&[("MYSQL_ROOT_PASSWORD", "x"), ("MYSQL_PASSWORD", "y")]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("SERVICE_TOKEN"));
}

#[test]
fn images_are_multi_stage_non_root_and_health_checked() {
    for service in ["user-service", "friends-service", "message-service"] {
        let path = root().join(format!("services/{service}/Dockerfile"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("cargo chef cook"),
            "{service}: dependency layer"
        );
        assert!(
            text.contains("FROM debian:bookworm-slim AS runtime"),
            "{service}: small runtime"
        );
        assert!(text.contains("USER 10001"), "{service}: non-root");
        assert!(text.contains("HEALTHCHECK"), "{service}: health check");
        assert!(
            text.contains(&format!("-p {service}")),
            "{service}: builds itself"
        );
    }
}

#[test]
fn the_web_app_image_serves_its_service_worker() {
    let text = std::fs::read_to_string(root().join("frontend/Dockerfile")).unwrap();
    assert!(
        text.contains("/app/public ./public"),
        "public/ (sw.js) is copied"
    );
    assert!(root().join("frontend/public/sw.js").exists());
}
