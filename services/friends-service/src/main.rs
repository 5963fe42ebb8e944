//! friends-service binary.

use std::process::ExitCode;

use clap::Parser as _;
use friends_service::config::Config;
use friends_service::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    dotenvy::dotenv().ok();
    let config = Config::parse();
    chat_models::telemetry::init_tracing(
        "info,friends_service=debug,tower_http=info",
        config.log_format,
    );
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("friends-service stopped: {error:#}");
            eprintln!("friends-service: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "friends-service listening");
    app.run_until_stopped(chat_models::telemetry::shutdown_signal())
        .await?;
    Ok(())
}
