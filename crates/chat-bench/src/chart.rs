//! `chat-bench chart`: every result in a directory as one SVG of latency bars (p50 and p99 per
//! measured series), so a run can be seen at a glance.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{json, Value};

/// The chart's knobs.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Directory of JSON results (`*.json`).
    #[arg(long, default_value = "target/bench")]
    pub dir: PathBuf,
    /// The SVG to write.
    #[arg(long = "svg", default_value = "target/bench/summary.svg")]
    pub svg: PathBuf,
}

/// A bar: label, p50, p99 (ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// What was measured.
    pub label: String,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

fn bar(label: String, latency: &Value) -> Option<Bar> {
    Some(Bar {
        label,
        p50: latency["p50_ms"].as_f64()?,
        p99: latency["p99_ms"].as_f64()?,
    })
}

/// The latency series of one result.
pub fn bars(result: &Value) -> Vec<Bar> {
    let mut bars = Vec::new();
    match result["scenario"].as_str() {
        Some("fanout") => bars.extend(bar(
            "fan-out: send → receive".to_owned(),
            &result["latency"],
        )),
        Some("resume") => bars.extend(bar("resume: replay".to_owned(), &result["replay"])),
        Some("push") => bars.extend(bar(
            format!("web push: send → push ({} members)", result["members"]),
            &result["send_to_push"],
        )),
        Some("search") => bars.extend(bar(
            format!("search: query over {} messages", result["messages"]),
            &result["query"],
        )),
        Some("http") => {
            for entry in result["results"].as_array().into_iter().flatten() {
                let label = format!(
                    "{} ×{}",
                    entry["route"].as_str().unwrap_or("?"),
                    entry["concurrency"]
                );
                bars.extend(bar(label, &entry["latency"]));
            }
        }
        Some("flood") => {
            for (phase, key) in [("alone", "reads_alone"), ("login flood", "reads_flooded")] {
                for (route, value) in result[key].as_object().into_iter().flatten() {
                    bars.extend(bar(format!("{route} ({phase})"), &value["latency"]));
                }
            }
        }
        _ => {}
    }
    bars
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Draws bars as a horizontal chart on a log-free, shared millisecond scale.
pub fn svg(bars: &[Bar]) -> String {
    let (label_width, chart_width, row) = (330.0, 520.0, 22.0);
    let height = 60.0 + row * bars.len() as f64;
    let max = bars
        .iter()
        .map(|bar| bar.p99.max(bar.p50))
        .fold(1.0_f64, f64::max);
    let scale = chart_width / max;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" font-size="14" font-weight="bold">Latency (ms): p50 dark, p99 light</text>
"##,
        w = label_width + chart_width + 90.0
    );
    for (index, bar) in bars.iter().enumerate() {
        let y = 40.0 + row * index as f64;
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text>
<rect x="{x}" y="{y}" width="{p99w:.1}" height="16" fill="#9ecae1"/>
<rect x="{x}" y="{y}" width="{p50w:.1}" height="16" fill="#3182bd"/>
<text x="{vx:.1}" y="{ty}">{p50:.2} / {p99:.2}</text>
"##,
            lx = label_width - 8.0,
            ty = y + 12.0,
            label = escape(&bar.label),
            x = label_width,
            p99w = (bar.p99 * scale).max(1.0),
            p50w = (bar.p50 * scale).max(1.0),
            vx = label_width + (bar.p99.max(bar.p50) * scale).max(1.0) + 6.0,
            p50 = bar.p50,
            p99 = bar.p99,
        );
    }
    out.push_str("</svg>\n");
    out
}

/// Reads the results and writes the SVG.
pub fn run(options: &Options) -> anyhow::Result<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&options.dir)
        .with_context(|| format!("reading {}", options.dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        if let Ok(result) = serde_json::from_str::<Value>(&text) {
            all.extend(bars(&result));
        }
    }
    std::fs::write(&options.svg, svg(&all))
        .with_context(|| format!("writing {}", options.svg.display()))?;
    Ok(json!({ "chart": options.svg, "series": all.len(), "files": files.len() }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn results_become_bars_and_bars_an_svg() {
        let result = json!({ "scenario": "http", "results": [
            { "route": "GET /friends", "concurrency": 4,
              "latency": { "p50_ms": 1.5, "p99_ms": 4.0 } } ] });
        let bars = bars(&result);
        assert_eq!(
            bars,
            vec![Bar {
                label: "GET /friends ×4".to_owned(),
                p50: 1.5,
                p99: 4.0
            }]
        );
        let drawn = svg(&bars);
        assert!(drawn.starts_with("<svg"));
        assert!(drawn.contains("GET /friends ×4"));
        assert!(drawn.contains("1.50 / 4.00"));
        assert!(bars_of_unknown_scenarios_are_empty());
        let search = json!({ "scenario": "search", "messages": 1000,
            "query": { "p50_ms": 1.0, "p99_ms": 3.0 } });
        assert_eq!(
            super::bars(&search)[0].label,
            "search: query over 1000 messages"
        );
    }

    fn bars_of_unknown_scenarios_are_empty() -> bool {
        bars(&json!({ "scenario": "connections" })).is_empty()
    }
}
