//! user-service binary.

use user_service::startup::build;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let log_filter = "info,user_service=debug,tower_http=info";
    chat_models::service::main("user-service", log_filter, build).await
}
