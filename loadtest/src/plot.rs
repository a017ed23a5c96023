//! PNG charts with plotters' bitmap backend. Text needs a TrueType font;
//! DejaVu Sans (Debian `fonts-dejavu-core`) is looked up in the usual
//! places, or named with `VOUCH_LOADTEST_FONT`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context as _;
use plotters::prelude::*;

/// A line on a chart.
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) points: Vec<(f64, f64)>,
}

/// One chart of a figure.
pub(crate) struct Panel {
    pub(crate) title: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    /// Plot x on a log10 scale (store weights, fleet sizes).
    pub(crate) log_x: bool,
    pub(crate) series: Vec<Series>,
}

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
];

fn font_ready() -> Result<(), String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    READY
        .get_or_init(|| {
            let candidates: Vec<PathBuf> = std::env::var_os("VOUCH_LOADTEST_FONT")
                .map(PathBuf::from)
                .into_iter()
                .chain(FONT_PATHS.iter().map(PathBuf::from))
                .collect();
            let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
                "no TrueType font found: install fonts-dejavu-core or set VOUCH_LOADTEST_FONT"
                    .to_owned()
            })?;
            let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            // plotters keeps fonts for the life of the process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
                .map_err(|_| format!("{} is not a usable font", path.display()))
        })
        .clone()
}

const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

fn bounds(panel: &Panel) -> ((f64, f64), (f64, f64)) {
    let xs = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1));
    let (mut x0, mut x1) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| {
        let x = if panel.log_x { x.max(1.0).log10() } else { x };
        (a.min(x), b.max(x))
    });
    let mut y1 = ys.fold(0.0f64, f64::max);
    if x0 > x1 {
        (x0, x1) = (0.0, 1.0);
    }
    if (x1 - x0).abs() < f64::EPSILON {
        x0 -= 0.5;
        x1 += 0.5;
    }
    if y1 <= 0.0 {
        y1 = 1.0;
    }
    // Head room for the legend in the upper left.
    let room = 1.15 + 0.07 * panel.series.len() as f64;
    ((x0, x1), (0.0, y1 * room))
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    panel: &Panel,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let ((x0, x1), (y0, y1)) = bounds(panel);
    let y1 = y1.max(y0);
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow::anyhow!("building a chart: {e}"))?;
    let log_x = panel.log_x;
    let x_fmt = move |v: &f64| {
        if log_x {
            let n = 10f64.powf(*v);
            if n >= 1e6 {
                format!("{:.0}M", n / 1e6)
            } else if n >= 1e3 {
                format!("{:.0}k", n / 1e3)
            } else {
                format!("{n:.0}")
            }
        } else {
            format!("{v:.0}")
        }
    };
    let y_fmt = move |v: &f64| {
        if y1 >= 20.0 {
            format!("{v:.0}")
        } else if y1 >= 2.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.3}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(panel.x_label.as_str())
        .y_desc(panel.y_label.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        // No minor grid: it adds nothing to read and triples the PNG size.
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| anyhow::anyhow!("drawing axes: {e}"))?;
    for (i, s) in panel.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|&(x, y)| (if log_x { x.max(1.0).log10() } else { x }, y))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
            .map_err(|e| anyhow::anyhow!("drawing a series: {e}"))?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
        if pts.len() < 60 {
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(|e| anyhow::anyhow!("drawing points: {e}"))?;
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow::anyhow!("drawing the legend: {e}"))?;
    Ok(())
}

/// Draws `panels` side by side (two per row) into `path`.
pub(crate) fn figure(path: &Path, panels: &[Panel]) -> anyhow::Result<()> {
    font_ready().map_err(|e| anyhow::anyhow!(e))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let cols = panels.len().clamp(1, 2);
    let rows = panels.len().div_ceil(cols).max(1);
    let width = 640 * u32::try_from(cols).unwrap_or(1);
    let height = 420 * u32::try_from(rows).unwrap_or(1);
    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE)
        .map_err(|e| anyhow::anyhow!("filling the canvas: {e}"))?;
    let areas = root.split_evenly((rows, cols));
    for (area, panel) in areas.iter().zip(panels) {
        draw_panel(area, panel)?;
    }
    root.present()
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    crate::report::say(&format!("wrote {}", path.display()));
    Ok(())
}

/// Draws, or says why not (a missing font must not fail a load test).
pub(crate) fn try_figure(path: &Path, panels: &[Panel]) {
    if let Err(e) = figure(path, panels) {
        eprintln!("plot {} skipped: {e:#}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_is_written_when_a_font_exists() {
        if let Err(e) = font_ready() {
            // CI installs the font (.ci/run), so there the plots are tested.
            assert!(std::env::var_os("CI").is_none(), "CI must have a font: {e}");
            eprintln!("no font here ({e}); plot test skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.png");
        figure(
            &path,
            &[Panel {
                title: "t".into(),
                x_label: "users".into(),
                y_label: "req/s".into(),
                log_x: true,
                series: vec![Series {
                    name: "a".into(),
                    points: vec![(10.0, 1.0), (1000.0, 3.0)],
                }],
            }],
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
