//! `chat-bench chart`: every result in a directory as one SVG of latency bars (p50 and p99 per
//! measured series), so a run can be seen at a glance, and each result as an SVG of its own
//! beside it (`fanout.json` → `fanout.svg`): its latencies, and its rates or sizes (sends/s,
//! deliveries/s, bytes per socket) as value bars.

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

/// A value of a result worth a bar of its own: what, how much, in what.
#[derive(Debug, Clone, PartialEq)]
pub struct Value1 {
    /// What was measured.
    pub label: String,
    /// The number.
    pub value: f64,
    /// Its unit (`sends/s`).
    pub unit: &'static str,
}

fn value(label: String, number: &Value, unit: &'static str) -> Option<Value1> {
    Some(Value1 {
        label,
        value: number.as_f64()?,
        unit,
    })
}

/// The rates and sizes of one result.
pub fn values(result: &Value) -> Vec<Value1> {
    let mut values = Vec::new();
    match result["scenario"].as_str() {
        Some("sends") => {
            values.extend(value(
                "one busy group".to_owned(),
                &result["busy"]["sends_per_s"],
                "sends/s",
            ));
            values.extend(value(
                "a conversation each".to_owned(),
                &result["spread"]["sends_per_s"],
                "sends/s",
            ));
            let raw = &result["raw_store"];
            values.extend(value(
                "store alone, a counter each".to_owned(),
                &raw["per_client_counter"]["transactions_per_s"],
                "transactions/s",
            ));
            values.extend(value(
                "store alone, one shared counter".to_owned(),
                &raw["shared_counter"]["transactions_per_s"],
                "transactions/s",
            ));
        }
        Some("ceiling") => {
            for shape in result["shapes"].as_array().into_iter().flatten() {
                let name = match shape["shape"].as_str() {
                    Some("direct") => "direct conversations".to_owned(),
                    Some(size) => format!("groups of {size}"),
                    None => continue,
                };
                values.extend(value(
                    format!("ceiling: {name}"),
                    &shape["ceiling_deliveries_per_s"],
                    "deliveries/s",
                ));
            }
        }
        Some("connections") => values.extend(value(
            format!("{} idle sockets", result["open"]),
            &result["server_bytes_per_socket"],
            "bytes per socket",
        )),
        Some("fanout") => values.extend(value(
            "delivered".to_owned(),
            &result["delivered_per_s"],
            "deliveries/s",
        )),
        Some("uploads") => values.extend(value(
            "uploads".to_owned(),
            &result["throughput_mb_per_s"],
            "MB/s",
        )),
        Some("scale") => {
            for entry in result["pages"].as_array().into_iter().flatten() {
                values.extend(value(
                    format!("{} per page", entry["page_size"]),
                    &entry["requests_per_s"],
                    "lists/s",
                ));
            }
        }
        Some("instances") => {
            for entry in result["runs"].as_array().into_iter().flatten() {
                values.extend(value(
                    format!("{} instance(s): CPU per delivery", entry["instances"]),
                    &entry["cpu_us_per_delivery"],
                    "µs",
                ));
            }
        }
        Some("http") => {
            for entry in result["results"].as_array().into_iter().flatten() {
                let label = format!(
                    "{} ×{}",
                    entry["route"].as_str().unwrap_or("?"),
                    entry["concurrency"]
                );
                values.extend(value(label, &entry["requests_per_s"], "requests/s"));
            }
        }
        _ => {}
    }
    values
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
        Some("sends") => {
            bars.extend(bar(
                "send: one busy group".to_owned(),
                &result["busy"]["latency"],
            ));
            bars.extend(bar(
                "send: a conversation each".to_owned(),
                &result["spread"]["latency"],
            ));
            let raw = &result["raw_store"];
            bars.extend(bar(
                "store alone: a counter each".to_owned(),
                &raw["per_client_counter"]["latency"],
            ));
            bars.extend(bar(
                "store alone: one counter".to_owned(),
                &raw["shared_counter"]["latency"],
            ));
        }
        Some("ceiling") => {
            for shape in result["shapes"].as_array().into_iter().flatten() {
                for step in shape["steps"].as_array().into_iter().flatten() {
                    let label = format!(
                        "{} @ {}/s{}",
                        shape["shape"].as_str().unwrap_or("?"),
                        step["offered_deliveries_per_s"],
                        if step["passed"] == true { "" } else { " ✗" }
                    );
                    bars.extend(bar(label, &step["latency"]));
                }
            }
        }
        Some("scale") => {
            for entry in result["pages"].as_array().into_iter().flatten() {
                let label = format!("list: {} per page", entry["page_size"]);
                bars.extend(bar(label, &entry["latency"]));
            }
            for entry in result["history"].as_array().into_iter().flatten() {
                let at = &entry["messages"];
                bars.extend(bar(
                    format!("history page at {at} messages"),
                    &entry["history"],
                ));
                bars.extend(bar(
                    format!("unread count at {at} messages"),
                    &entry["unread"],
                ));
                bars.extend(bar(format!("resume at {at} messages"), &entry["resume"]));
            }
        }
        Some("instances") => {
            for entry in result["runs"].as_array().into_iter().flatten() {
                let label = format!("{} instance(s): send → receive", entry["instances"]);
                bars.extend(bar(label, &entry["latency"]));
            }
        }
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
    let (body, height) = section_of_bars(bars, 0.0);
    document(&body, height)
}

/// An SVG document of `height` around `body`.
fn document(body: &str, height: f64) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
{body}</svg>
"##,
        w = LABEL_WIDTH + CHART_WIDTH + 110.0
    )
}

const LABEL_WIDTH: f64 = 330.0;
const CHART_WIDTH: f64 = 520.0;
const ROW: f64 = 22.0;

/// Latency bars from `top`: the drawing and where it ends.
fn section_of_bars(bars: &[Bar], top: f64) -> (String, f64) {
    let max = bars
        .iter()
        .map(|bar| bar.p99.max(bar.p50))
        .fold(1.0_f64, f64::max);
    let scale = CHART_WIDTH / max;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<text x="10" y="{y}" font-size="14" font-weight="bold">Latency (ms): p50 dark, p99 light</text>"#,
        y = top + 20.0
    );
    for (index, bar) in bars.iter().enumerate() {
        let y = top + 40.0 + ROW * index as f64;
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text>
<rect x="{x}" y="{y}" width="{p99w:.1}" height="16" fill="#9ecae1"/>
<rect x="{x}" y="{y}" width="{p50w:.1}" height="16" fill="#3182bd"/>
<text x="{vx:.1}" y="{ty}">{p50:.2} / {p99:.2}</text>
"##,
            lx = LABEL_WIDTH - 8.0,
            ty = y + 12.0,
            label = escape(&bar.label),
            x = LABEL_WIDTH,
            p99w = (bar.p99 * scale).max(1.0),
            p50w = (bar.p50 * scale).max(1.0),
            vx = LABEL_WIDTH + (bar.p99.max(bar.p50) * scale).max(1.0) + 6.0,
            p50 = bar.p50,
            p99 = bar.p99,
        );
    }
    (out, top + 60.0 + ROW * bars.len() as f64)
}

/// Value bars from `top`, on one scale (a result's rates compare: sends/s against the store's
/// transactions/s): the drawing and where it ends.
fn section_of_values(values: &[Value1], top: f64) -> (String, f64) {
    let max = values.iter().map(|item| item.value).fold(1.0_f64, f64::max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<text x="10" y="{y}" font-size="14" font-weight="bold">Rates and sizes</text>"#,
        y = top + 20.0
    );
    for (index, item) in values.iter().enumerate() {
        let y = top + 40.0 + ROW * index as f64;
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{label}</text>
<rect x="{x}" y="{y}" width="{w:.1}" height="16" fill="#31a354"/>
<text x="{vx:.1}" y="{ty}">{value} {unit}</text>
"##,
            lx = LABEL_WIDTH - 8.0,
            ty = y + 12.0,
            label = escape(&item.label),
            x = LABEL_WIDTH,
            w = (item.value / max * CHART_WIDTH * 0.8).max(1.0),
            vx = LABEL_WIDTH + (item.value / max * CHART_WIDTH * 0.8).max(1.0) + 6.0,
            value = item.value,
            unit = item.unit,
        );
    }
    (out, top + 60.0 + ROW * values.len() as f64)
}

/// One result's chart: its title, its latencies, its rates and sizes.
pub fn result_svg(result: &Value) -> String {
    let mut body = format!(
        r#"<text x="10" y="22" font-size="16" font-weight="bold">{}</text>
"#,
        escape(result["scenario"].as_str().unwrap_or("result"))
    );
    let mut top = 30.0;
    let bars = bars(result);
    if !bars.is_empty() {
        let (drawn, end) = section_of_bars(&bars, top);
        body.push_str(&drawn);
        top = end;
    }
    let values = values(result);
    if !values.is_empty() {
        let (drawn, end) = section_of_values(&values, top);
        body.push_str(&drawn);
        top = end;
    }
    document(&body, top)
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
    let mut charts = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        if let Ok(result) = serde_json::from_str::<Value>(&text) {
            all.extend(bars(&result));
            let chart = file.with_extension("svg");
            std::fs::write(&chart, result_svg(&result))
                .with_context(|| format!("writing {}", chart.display()))?;
            charts.push(chart);
        }
    }
    std::fs::write(&options.svg, svg(&all))
        .with_context(|| format!("writing {}", options.svg.display()))?;
    Ok(json!({ "chart": options.svg, "charts": charts, "series": all.len(), "files": files.len() }))
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

    #[test]
    fn a_result_gets_a_chart_of_its_latencies_and_rates() {
        let result = json!({ "scenario": "sends",
            "busy": { "sends_per_s": 2100.0, "latency": { "p50_ms": 6.0, "p99_ms": 21.0 } },
            "spread": { "sends_per_s": 900.0, "latency": { "p50_ms": 15.0, "p99_ms": 40.0 } },
            "raw_store": { "per_client_counter": { "transactions_per_s": 1000.0 } } });
        let values = values(&result);
        assert_eq!(values.len(), 3);
        assert_eq!(values[0].label, "one busy group");
        assert_eq!(values[2].unit, "transactions/s");
        let drawn = result_svg(&result);
        assert!(drawn.contains("send: one busy group"));
        assert!(drawn.contains("6.00 / 21.00"));
        assert!(drawn.contains("2100 sends/s"));
        assert!(drawn.contains("1000 transactions/s"));
        let scale = json!({ "scenario": "scale",
            "pages": [{ "page_size": 20, "requests_per_s": 200.0,
                        "latency": { "p50_ms": 7.0, "p99_ms": 12.0 } }],
            "history": [{ "messages": 1000,
                          "history": { "p50_ms": 1.0, "p99_ms": 2.0 },
                          "unread": { "p50_ms": 2.0, "p99_ms": 5.0 },
                          "resume": { "p50_ms": 1.5, "p99_ms": 2.5 } }] });
        let labels: Vec<String> = bars(&scale).into_iter().map(|bar| bar.label).collect();
        assert_eq!(
            labels,
            [
                "list: 20 per page",
                "history page at 1000 messages",
                "unread count at 1000 messages",
                "resume at 1000 messages"
            ]
        );
        assert_eq!(super::values(&scale)[0].label, "20 per page");
        let instances = json!({ "scenario": "instances", "runs": [
            { "instances": 1, "cpu_us_per_delivery": 31.5, "latency": { "p50_ms": 2.0, "p99_ms": 6.0 } },
            { "instances": 4, "cpu_us_per_delivery": 40.0, "latency": { "p50_ms": 3.0, "p99_ms": 9.0 } }] });
        let drawn = result_svg(&instances);
        assert!(drawn.contains("4 instance(s): send → receive"));
        assert!(drawn.contains("31.5 µs"));
        assert_eq!(
            super::values(&instances)[1].label,
            "4 instance(s): CPU per delivery"
        );
    }

    fn bars_of_unknown_scenarios_are_empty() -> bool {
        bars(&json!({ "scenario": "connections" })).is_empty()
    }
}
