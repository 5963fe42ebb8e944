//! user-service binary.

use clap::Parser as _;
use user_service::config::Config;
use user_service::startup::Application;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    let config = Config::parse();
    chat_models::telemetry::init_tracing(
        "info,user_service=debug,tower_http=info",
        config.log_format,
    );
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "user-service listening");
    app.run_until_stopped(chat_models::telemetry::shutdown_signal())
        .await?;
    Ok(())
}
