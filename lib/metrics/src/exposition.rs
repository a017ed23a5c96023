//! Text exposition: OpenMetrics 1.0 for scrapers that ask for it (Prometheus
//! does), the classic Prometheus text format 0.0.4 for everyone else (curl,
//! older agents, most parsers).
//!
//! `prometheus-client` writes only OpenMetrics. The two differ in three
//! places that matter to a 0.0.4 parser: a counter family is named without
//! its `_total` suffix (its samples carry it), `# UNIT` lines, and the
//! closing `# EOF`. The conversion renames counter families to their
//! sample name and drops the other two; histograms, gauges and samples are
//! spelled the same in both.

use prometheus_client::registry::Registry;

/// Content type of the OpenMetrics text format.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Content type of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// An encoded scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposition {
    /// [`OPENMETRICS`] or [`PROMETHEUS_TEXT`].
    pub content_type: &'static str,
    /// The metrics.
    pub body: String,
}

pub(crate) fn encode(registry: &Registry, accept: Option<&str>) -> Exposition {
    let mut openmetrics = String::with_capacity(8 * 1024);
    // Writing into a String cannot fail; a collector that fails would be a
    // bug, and a partial scrape is better than none, so the error is dropped.
    let _ = prometheus_client::encoding::text::encode(&mut openmetrics, registry);
    if wants_openmetrics(accept) {
        Exposition {
            content_type: OPENMETRICS,
            body: openmetrics,
        }
    } else {
        Exposition {
            content_type: PROMETHEUS_TEXT,
            body: to_prometheus_text(&openmetrics),
        }
    }
}

/// Whether `accept` names the OpenMetrics text format.
fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|range| {
            let mut params = range.split(';');
            let media = params.next().unwrap_or("").trim();
            if !media.eq_ignore_ascii_case("application/openmetrics-text") {
                return false;
            }
            // `q=0` means "not this one".
            !params.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            })
        })
    })
}

/// OpenMetrics text as Prometheus text 0.0.4.
pub(crate) fn to_prometheus_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // A family's `# HELP` comes before its `# TYPE`, and only the type says
    // whether the name needs `_total`: hold the help line until then.
    let mut held_help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            flush_help(&mut out, held_help.take(), "");
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            held_help = Some((name, help));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let (kind, suffix) = match kind {
                "counter" => ("counter", "_total"),
                "unknown" => ("untyped", ""),
                "info" | "stateset" => ("gauge", ""),
                "gaugehistogram" => ("histogram", ""),
                other => (other, ""),
            };
            match held_help.take() {
                Some((help_name, help)) if help_name == name => {
                    flush_help(&mut out, Some((name, help)), suffix);
                }
                other => flush_help(&mut out, other, ""),
            }
            out.push_str("# TYPE ");
            out.push_str(name);
            out.push_str(suffix);
            out.push(' ');
            out.push_str(kind);
            out.push('\n');
            continue;
        }
        flush_help(&mut out, held_help.take(), "");
        out.push_str(line);
        out.push('\n');
    }
    flush_help(&mut out, held_help, "");
    out
}

fn flush_help(out: &mut String, help: Option<(&str, &str)>, suffix: &str) {
    if let Some((name, help)) = help {
        out.push_str("# HELP ");
        out.push_str(name);
        out.push_str(suffix);
        out.push(' ');
        out.push_str(help);
        out.push('\n');
    }
}
