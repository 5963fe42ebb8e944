//! friends-service binary.

use std::process::ExitCode;

use clap::Parser as _;
use friends_service::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    dotenvy::dotenv().ok();
    let config = Config::parse();
    chat_models::telemetry::init_tracing(
        "info,friends_service=debug,tower_http=info",
        config.common.log_format,
    );
    chat_models::service::run("friends-service", friends_service::startup::build(config)).await
}
