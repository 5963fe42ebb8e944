//! user-service binary.

use std::process::ExitCode;

use clap::Parser as _;
use user_service::config::Config;
use user_service::startup::Application;

#[tokio::main]
async fn main() -> ExitCode {
    dotenvy::dotenv().ok();
    let config = Config::parse();
    chat_models::telemetry::init_tracing(
        "info,user_service=debug,tower_http=info",
        config.log_format,
    );
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line with the whole cause chain, not a debug dump: this is what an operator
            // reads when the service refuses to start.
            tracing::error!("user-service stopped: {error:#}");
            eprintln!("user-service: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "user-service listening");
    app.run_until_stopped(chat_models::telemetry::shutdown_signal())
        .await?;
    Ok(())
}
