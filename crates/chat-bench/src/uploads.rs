//! Scenario 8, uploads: clients uploading large attachments at once; throughput and
//! message-service's resident memory while they stream (it should not grow with file size),
//! and an oversized upload cut off with `413` without being buffered.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use crate::setup::{Services, User};
use crate::stats::{percentiles, rss_kib};

/// The uploads scenario's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Clients uploading at once.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Size of each file, in MB (10^6 bytes).
    #[arg(long, default_value_t = 25)]
    pub size_mb: usize,
    /// Files each client uploads, one after the other.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// An upload this many times the file size, sent once at the end (`0`: none); the
    /// service must refuse it with 413 as soon as it passes the limit.
    #[arg(long, default_value_t = 4)]
    pub oversized_factor: usize,
    /// message-service's pid, to sample its resident memory.
    #[arg(long)]
    pub server_pid: Option<u32>,
}

/// Bytes no sniffer recognises (stored as they are, streamed in parts).
fn file(size: usize, seed: u8) -> bytes::Bytes {
    (0..size)
        .map(|i| ((i % 251) as u8 ^ seed) | 0x80)
        .collect::<Vec<u8>>()
        .into()
}

/// The body as a stream of 64 KiB chunks without a declared length, as a browser streams.
fn streamed(data: bytes::Bytes) -> reqwest::Body {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..data.len())
        .step_by(64 * 1024)
        .map(|start| Ok(data.slice(start..(start + 64 * 1024).min(data.len()))))
        .collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

async fn upload(
    services: &Services,
    base: &str,
    user: &User,
    data: bytes::Bytes,
) -> anyhow::Result<(u16, Value)> {
    let response = services
        .http()
        .post(format!("{base}/attachments?name=bench.bin"))
        .bearer_auth(&user.access)
        .timeout(Duration::from_secs(300))
        .body(streamed(data))
        .send()
        .await
        .context("POST /attachments")?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// Runs the scenario.
pub async fn run(services: &Services, options: &Options) -> anyhow::Result<Value> {
    let Options {
        clients,
        size_mb,
        rounds,
        oversized_factor,
        server_pid,
    } = options.clone();
    let base = services.messages[0].clone();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let people = services.register_many(&run[..8], clients.max(1)).await?;
    let size = size_mb * 1_000_000;

    // Memory, sampled every 10 ms while the uploads run.
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let before = server_pid.and_then(rss_kib);
    let sampler = server_pid.map(|pid| {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some(rss) = rss_kib(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    });

    let started = Instant::now();
    let tasks = people.iter().enumerate().map(|(index, user)| {
        let base = base.clone();
        let data = file(size, index as u8);
        async move {
            let mut timings = Vec::new();
            let mut ids = Vec::new();
            for _ in 0..rounds {
                let begun = Instant::now();
                let (status, body) = upload(services, &base, user, data.clone()).await?;
                if status != 201 {
                    bail!("upload answered {status}: {body}");
                }
                timings.push(begun.elapsed());
                ids.push(body["id"].as_str().unwrap_or_default().to_owned());
            }
            anyhow::Ok((timings, ids))
        }
    });
    let results = futures::future::try_join_all(tasks).await?;
    let elapsed = started.elapsed();
    let peak_streaming = peak.load(Ordering::Relaxed);

    // One upload far over the limit: refused as it streams, without buffering.
    let oversized = if oversized_factor > 0 {
        peak.store(0, Ordering::Relaxed);
        let begun = Instant::now();
        let (status, body) = upload(
            services,
            &base,
            &people[0],
            file(size * oversized_factor, 7),
        )
        .await?;
        Some(json!({
            "size_mb": size_mb * oversized_factor,
            "status": status,
            "code": body["error"]["code"],
            "answered_after_ms": crate::stats::ms(begun.elapsed()),
            "server_rss_peak_kib": server_pid.map(|_| peak.load(Ordering::Relaxed)),
        }))
    } else {
        None
    };
    sampling.store(false, Ordering::Relaxed);
    if let Some(sampler) = sampler {
        let _ = sampler.await;
    }

    // Leave nothing behind: the uploads were never attached.
    for ((_, ids), user) in results.iter().zip(&people) {
        for id in ids {
            let _ = services
                .http()
                .delete(format!("{base}/attachments/{id}"))
                .bearer_auth(&user.access)
                .send()
                .await;
        }
    }

    let timings: Vec<Duration> = results
        .iter()
        .flat_map(|(timings, _)| timings.clone())
        .collect();
    let total_mb = (clients * rounds * size) as f64 / 1e6;
    Ok(json!({
        "scenario": "uploads",
        "clients": clients,
        "file_mb": size_mb,
        "files": clients * rounds,
        "throughput_mb_per_s": (total_mb / elapsed.as_secs_f64() * 10.0).round() / 10.0,
        "upload": percentiles(timings),
        "server_rss_before_kib": before,
        "server_rss_peak_kib": server_pid.map(|_| peak_streaming),
        "server_rss_growth_kib": before.map(|before| peak_streaming.saturating_sub(before)),
        "oversized": oversized,
    }))
}
