//! message-service binary.

use std::process::ExitCode;

use clap::Parser as _;
use message_service::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    dotenvy::dotenv().ok();
    let config = Config::parse();
    chat_models::telemetry::init_tracing(
        "info,message_service=debug,tower_http=info",
        config.common.log_format,
    );
    chat_models::service::run("message-service", message_service::startup::build(config)).await
}
