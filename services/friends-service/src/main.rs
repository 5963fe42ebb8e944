//! friends-service binary.

use friends_service::startup::build;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let log_filter = "info,friends_service=debug,tower_http=info";
    chat_models::service::main("friends-service", log_filter, build).await
}
