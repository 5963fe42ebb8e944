//! The benchmark harness (crates/chat-bench) on a tiny setting against a real stack: a smoke
//! run that must lose and duplicate nothing. Timing is not asserted (see docs/benchmarks.md).

use chat_bench::setup::Services;
use chat_bench::{fanout, resume};

use chat_testkit::Stack;

#[tokio::test]
async fn the_fanout_and_resume_scenarios_lose_nothing() {
    let stack = Stack::messages().await;
    let second = stack.instance(&[]).await;
    let services = Services::new(
        &stack.users,
        &stack.friends,
        &[stack.messages.clone(), second.url.clone()],
    )
    .unwrap();

    let result = fanout::run(
        &services,
        &fanout::Options {
            users: 6,
            group_size: 3,
            rate: 40,
            duration: 2,
        },
    )
    .await
    .unwrap();
    assert_eq!(result["messages_sent"], 80);
    assert_eq!(result["lost"], 0, "{result}");
    assert_eq!(result["duplicated"], 0, "{result}");
    assert_eq!(result["deliveries_received"], result["deliveries_expected"]);

    let result = resume::run(
        &services,
        &resume::Options {
            clients: 3,
            rate: 30,
            duration: 3,
            connected_ms: 600,
            away_ms: 300,
        },
    )
    .await
    .unwrap();
    assert_eq!(result["messages_sent"], 90);
    assert_eq!(result["lost"], 0, "{result}");
    assert_eq!(result["duplicated"], 0, "{result}");
    assert!(result["resumes"].as_u64().unwrap() >= 6, "{result}");
}
