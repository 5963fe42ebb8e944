//! message-service binary.

use std::process::ExitCode;

use clap::Parser as _;
use message_service::config::Config;
use message_service::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    dotenvy::dotenv().ok();
    let config = Config::parse();
    chat_models::telemetry::init_tracing(
        "info,message_service=debug,tower_http=info",
        config.log_format,
    );
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("message-service stopped: {error:#}");
            eprintln!("message-service: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "message-service listening");
    app.run_until_stopped(chat_models::telemetry::shutdown_signal())
        .await?;
    Ok(())
}
