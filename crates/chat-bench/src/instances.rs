//! Scenario 12, instances: does an instance's cost grow with the number of instances? With 1, 2
//! and 4 message-service instances, each holds the same load: its own members on sockets, in
//! groups, sending over their sockets at the same rate. The scenario reads each active
//! instance's CPU time (`/proc/<pid>/stat`) over the run and divides it by the frames that
//! instance delivered. Flat means an instance pays for its own sockets only; growing means it
//! pays for traffic it does not deliver (every instance reading every event). The instances
//! not under load in a run (all four are up throughout) hold no sockets: their CPU over the
//! run, divided by the events published, is what an event costs an instance that delivers none
//! of it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures::stream::SplitSink;
use futures::StreamExt as _;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{Services, User};
use crate::stats::percentiles;
use crate::ws::{open_socket, record, send_paced, Seen, Socket};

/// Linux reports process CPU times in clock ticks of `USER_HZ`, 100 per second.
const TICKS_PER_SECOND: f64 = 100.0;
/// How long each instance's CPU is read with nothing sent, before each count.
const QUIET: Duration = Duration::from_secs(4);
/// How long after the last send a delivery may still come.
const STRAGGLERS: Duration = Duration::from_secs(2);

/// The scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Instance counts to run, each at most the number of `--messages-url`.
    #[arg(long, value_delimiter = ',', default_values_t = vec![1, 2, 4])]
    pub counts: Vec<usize>,
    /// The pids of the message-service instances, in `--messages-url` order.
    #[arg(long, value_delimiter = ',', required = true)]
    pub server_pids: Vec<u32>,
    /// Members on sockets per instance.
    #[arg(long, default_value_t = 20)]
    pub users: usize,
    /// Members per group.
    #[arg(long, default_value_t = 10)]
    pub group_size: usize,
    /// Messages/s sent through each instance.
    #[arg(long, default_value_t = 50)]
    pub rate: u64,
    /// Seconds of sending per count.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
}

/// CPU seconds (user + system, all threads) a process has used so far.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    cpu_of_stat(&stat).with_context(|| format!("no CPU times in /proc/{pid}/stat"))
}

/// utime + stime of a `/proc/<pid>/stat` line, in seconds. The command name is in parentheses
/// and may hold spaces and parentheses: the fields after its last `)` start at field 3 (the
/// state); utime and stime are fields 14 and 15.
fn cpu_of_stat(stat: &str) -> Option<f64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / TICKS_PER_SECOND)
}

/// One instance's share: its members' groups (indexes into its people).
struct Instance {
    url: String,
    pid: u32,
    people: Vec<User>,
    groups: Vec<(String, Vec<usize>)>,
}

/// Sends `rate` messages/s for `seconds` through one instance's sockets (see [`send_paced`]);
/// returns how many it sent, and the sockets.
async fn send_through(
    mut writers: Vec<SplitSink<Socket, Message>>,
    groups: Vec<(String, Vec<usize>)>,
    seen: Arc<Mutex<Seen>>,
    numbers: Arc<AtomicU64>,
    run: String,
    rate: u64,
    seconds: u64,
) -> anyhow::Result<(u64, Vec<SplitSink<Socket, Message>>)> {
    let messages = rate * seconds;
    let number = || numbers.fetch_add(1, Ordering::Relaxed);
    send_paced(
        &mut writers,
        &groups,
        &seen,
        &run,
        rate as f64,
        messages,
        number,
    )
    .await?;
    Ok((messages, writers))
}

/// CPU seconds of each instance's process now.
fn cpu_now(instances: &[Instance]) -> anyhow::Result<Vec<f64>> {
    instances
        .iter()
        .map(|instance| cpu_seconds(instance.pid))
        .collect()
}

/// What each instance used between two readings.
fn used(after: &[f64], before: &[f64]) -> Vec<f64> {
    after.iter().zip(before).map(|(a, b)| a - b).collect()
}

/// Rounded to `places` decimals.
fn round(value: f64, places: i32) -> f64 {
    let scale = 10_f64.powi(places);
    (value * scale).round() / scale
}

/// Runs one count: the first `count` instances under load at once.
async fn run_count(
    instances: &[Instance],
    count: usize,
    run: &str,
    numbers: &Arc<AtomicU64>,
    options: &Options,
) -> anyhow::Result<Value> {
    let (active, idle) = instances.split_at(count);
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let mut sockets = Vec::new();
    let mut readers = Vec::new();
    for instance in active {
        let mut writers = Vec::new();
        for user in &instance.people {
            let (write, read) = open_socket(&instance.url, user, None).await?.split();
            writers.push(write);
            readers.push(tokio::spawn(record(read, seen.clone())));
        }
        sockets.push(writers);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // What each instance uses with nothing sent (timers, pollers), per second: taken off what
    // it uses under load, the rest is the load's.
    let (quiet_from, quiet_at) = (cpu_now(instances)?, Instant::now());
    tokio::time::sleep(QUIET).await;
    let quiet_seconds = quiet_at.elapsed().as_secs_f64();
    let quiet: Vec<f64> = used(&cpu_now(instances)?, &quiet_from)
        .into_iter()
        .map(|seconds| seconds / quiet_seconds)
        .collect();

    let before = cpu_now(instances)?;
    let started = Instant::now();
    let senders: Vec<_> = active
        .iter()
        .zip(sockets)
        .map(|(instance, writers)| {
            tokio::spawn(send_through(
                writers,
                instance.groups.clone(),
                seen.clone(),
                numbers.clone(),
                run.to_owned(),
                options.rate,
                options.duration,
            ))
        })
        .collect();
    let mut sent = 0;
    let mut writers = Vec::new();
    for sender in senders {
        let (count, kept) = sender.await.context("a sender panicked")??;
        sent += count;
        writers.push(kept);
    }
    let sending = started.elapsed();
    // Stragglers: anything not in by then counts as lost.
    tokio::time::sleep(STRAGGLERS).await;
    let window = started.elapsed().as_secs_f64();
    let loaded: Vec<f64> = used(&cpu_now(instances)?, &before)
        .iter()
        .zip(&quiet)
        .map(|(seconds, rate)| round((seconds - rate * window).max(0.0), 3))
        .collect();
    for reader in &readers {
        reader.abort();
    }
    drop(writers);

    let seen = seen
        .lock()
        .map_err(|_| anyhow::anyhow!("a reader panicked"))?;
    let tally = seen.tally(..);
    let (delivered, lost) = (tally.received, tally.lost);
    let (cpu, idle_cpu) = loaded.split_at(count);
    let cpu_total: f64 = cpu.iter().sum();
    let per_delivery = (delivered > 0).then(|| round(cpu_total / delivered as f64 * 1e6, 1));
    // An instance with no sockets still reads every event: what one it delivers nothing of costs.
    let per_unrelated_event = (!idle_cpu.is_empty() && sent > 0).then(|| {
        let each = idle_cpu.iter().sum::<f64>() / idle_cpu.len() as f64;
        round(each / sent as f64 * 1e6, 1)
    });
    Ok(json!({
        "instances": count,
        "messages": sent,
        "send_seconds": round(sending.as_secs_f64(), 3),
        "delivered": delivered,
        "delivered_per_s_per_instance": (delivered as f64 / sending.as_secs_f64() / count as f64).round(),
        "lost": lost,
        "duplicated": seen.duplicated,
        "events_per_s_each_instance_reads": options.rate * count as u64,
        "quiet_cpu_percent": quiet.iter().map(|rate| round(rate * 100.0, 1)).collect::<Vec<_>>(),
        "cpu_seconds": cpu,
        "cpu_percent_per_instance": round(cpu_total / count as f64 / window * 100.0, 1),
        "cpu_us_per_delivery": per_delivery,
        "idle_instances": idle.len(),
        "idle_cpu_seconds": idle_cpu,
        "idle_cpu_us_per_event": per_unrelated_event,
        "latency": percentiles(tally.latencies),
    }))
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let most = options.counts.iter().copied().max().unwrap_or(0);
    if most == 0 || most > services.messages.len() || most > options.server_pids.len() {
        bail!(
            "counts up to {most} need that many --messages-url and --server-pids ({} and {})",
            services.messages.len(),
            options.server_pids.len()
        );
    }
    if options.group_size < 2 || options.users < options.group_size || options.rate == 0 {
        bail!("need groups of at least 2, as many users per instance, and a rate");
    }
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut instances = Vec::new();
    for index in 0..most {
        let people = services
            .register_many(&format!("{}i{index}", &run[..6]), options.users)
            .await?;
        let mut groups = Vec::new();
        for start in (0..=people.len() - options.group_size).step_by(options.group_size) {
            let members: Vec<usize> = (start..start + options.group_size).collect();
            groups.push((services.group_of(&people, &members).await?, members));
        }
        instances.push(Instance {
            url: services.messages[index].clone(),
            pid: options.server_pids[index],
            people,
            groups,
        });
    }
    // Numbered across the counts: a number is a nonce, and a nonce used again is a retry.
    let numbers = Arc::new(AtomicU64::new(0));
    let mut runs = Vec::new();
    for &count in &options.counts {
        runs.push(run_count(&instances, count, &run, &numbers, options).await?);
    }
    let per_delivery = |count: usize| {
        runs.iter()
            .find(|entry| entry["instances"] == count)
            .and_then(|entry| entry["cpu_us_per_delivery"].as_f64())
    };
    let growth = match (per_delivery(1), per_delivery(most)) {
        (Some(one), Some(all)) if one > 0.0 && most > 1 => json!(round(all / one, 2)),
        _ => Value::Null,
    };
    Ok(json!({
        "scenario": "instances",
        "users_per_instance": options.users,
        "group_size": options.group_size,
        "rate_per_instance": options.rate,
        "duration_s": options.duration,
        "runs": runs,
        "cpu_per_delivery_most_vs_one": growth,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_times_are_read_past_a_command_name_with_spaces() {
        let stat =
            "4242 (message (svc) 1) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 37 0 0 20 0 9 0";
        assert_eq!(cpu_of_stat(stat), Some(2.87));
        assert_eq!(cpu_of_stat("4242 (short) S 1 2"), None);
    }
}
