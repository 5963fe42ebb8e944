//! message-service binary.

use message_service::startup::build;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let log_filter = "info,message_service=debug,tower_http=info";
    chat_models::service::main("message-service", log_filter, build).await
}
