//! `chat-bench`: runs one scenario against a running stack and prints its JSON result (and
//! writes it to `--out`); `chat-bench chart` draws the results as an SVG.
//!
//! ```text
//! chat-bench fanout --users 20 --rate 200 --duration 20
//! chat-bench connections --target 10000 --server-pid <message-service pid>
//! chat-bench http --concurrency 1,4,16 --duration 10
//! chat-bench flood --concurrency 8 --flood 16 --duration 10
//! chat-bench resume --clients 10 --rate 100 --duration 10
//! chat-bench push --members 50 --messages 200 --rate 20 --port 5990
//! chat-bench uploads --clients 4 --size-mb 25 --server-pid <message-service pid>
//! chat-bench sends --clients 16 --duration 10 --mongodb-uri mongodb://127.0.0.1:27017
//! chat-bench ceiling --users 100 --shapes direct,10,50,100 --max-p99-ms 50
//! chat-bench scale --mongodb-uri mongodb://127.0.0.1:27017 --mongodb-database chat
//! chat-bench instances --counts 1,2,4 --server-pids <pid>,<pid>,<pid>,<pid>
//! chat-bench chart --dir target/bench --out target/bench/summary.svg
//! ```

use std::path::PathBuf;

use chat_bench::setup::Services;
use chat_bench::{
    ceiling, chart, connections, fanout, flood, http, instances, push, resume, scale, sends,
    uploads,
};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "chat-bench", about = "Load generator for the chat platform")]
struct Cli {
    /// user-service base URL.
    #[arg(long, default_value = "http://127.0.0.1:5001", global = true)]
    users_url: String,
    /// friends-service base URL.
    #[arg(long, default_value = "http://127.0.0.1:5002", global = true)]
    friends_url: String,
    /// message-service base URLs (sockets and requests are spread over them; repeatable).
    #[arg(
        long = "messages-url",
        default_value = "http://127.0.0.1:5003",
        global = true
    )]
    messages_urls: Vec<String>,
    /// Also write the JSON result to this file.
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// 1. Message fan-out over WebSockets.
    Fanout(fanout::Options),
    /// 2. Idle WebSockets ramped to a target.
    Connections(connections::Options),
    /// 3. Authenticated reads and writes at increasing concurrency.
    Http(http::Options),
    /// 4. A login flood while scenario 3 runs.
    Flood(flood::Options),
    /// 5. Clients disconnecting and resuming while messages flow.
    Resume(resume::Options),
    /// 7. Web pushes to a group whose members are all away.
    Push(push::Options),
    /// 8. Large attachments uploaded at once: throughput and the service's memory.
    Uploads(uploads::Options),
    /// 9. One busy group, spread sends, and the store's own cost for the same transactions.
    Sends(sends::Options),
    /// 10. The fan-out ceiling: rising rates per conversation shape.
    Ceiling(ceiling::Options),
    /// 11. Reads as data grows: list page sizes, history sizes.
    Scale(scale::Options),
    /// 12. CPU per delivered frame as instances are added, at the same load per instance.
    Instances(instances::Options),
    /// Draws the JSON results of a directory as one SVG chart.
    Chart(chart::Options),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let services = Services::new(&cli.users_url, &cli.friends_url, &cli.messages_urls)?;
    let result = match &cli.scenario {
        Scenario::Fanout(options) => fanout::run(&services, options).await?,
        Scenario::Connections(options) => connections::run(&services, options).await?,
        Scenario::Http(options) => http::run(&services, options).await?,
        Scenario::Flood(options) => flood::run(&services, options).await?,
        Scenario::Resume(options) => resume::run(&services, options).await?,
        Scenario::Push(options) => push::run(&services, options).await?,
        Scenario::Uploads(options) => uploads::run(&services, options).await?,
        Scenario::Sends(options) => sends::run(&services, options).await?,
        Scenario::Ceiling(options) => ceiling::run(&services, options).await?,
        Scenario::Scale(options) => scale::run(&services, options).await?,
        Scenario::Instances(options) => instances::run(&services, options).await?,
        Scenario::Chart(options) => chart::run(options)?,
    };
    let text = serde_json::to_string_pretty(&result)?;
    println!("{text}");
    if let Some(path) = cli.out {
        std::fs::write(&path, text)?;
    }
    Ok(())
}
