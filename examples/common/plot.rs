//! The accuracy plot of `train_mnist`, like the book's figure 4-12: train and test accuracy
//! per epoch. Rendered in memory, then written atomically as PNG.

use std::path::Path;

use plotters::prelude::*;

use super::{Error, write_atomic};

/// Fonts tried in order for the axis labels (Debian's fonts-dejavu-core has the first), unless
/// the environment variable `CONSTNN_FONT` names one (or is empty: no labels).
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// Registers the first font found for the labels; `false` if there is none.
fn register_font() -> bool {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *REGISTERED.get_or_init(|| {
        let chosen = std::env::var_os("CONSTNN_FONT");
        let paths: Vec<std::path::PathBuf> = match &chosen {
            Some(p) if p.is_empty() => Vec::new(),
            Some(p) => vec![p.into()],
            None => FONT_PATHS.iter().map(Into::into).collect(),
        };
        paths.iter().any(|p| match std::fs::read(p) {
            Ok(bytes) => {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            }
            Err(_) => false,
        })
    })
}

/// Draws train and test accuracy per epoch into a PNG at `path`: train in blue, test in red.
/// Without a font for the labels (none installed, or `CONSTNN_FONT` empty) the chart has its
/// axes and curves but no text; it is written either way.
pub fn accuracy_png(path: &Path, train: &[f64], test: &[f64]) -> Result<(), Error> {
    let points = |v: &[f64]| v.iter().enumerate().map(|(i, a)| (i as f64, *a)).collect();
    let epochs = train.len().max(1) as f64;
    Chart {
        title: "TwoLayerNet on MNIST".into(),
        x_desc: "epochs",
        y_desc: "accuracy",
        x: 0.0..(epochs - 1.0).max(1.0),
        y: 0.0..1.0,
        series: vec![
            ("train acc".into(), points(train)),
            ("test acc".into(), points(test)),
        ],
        legend: SeriesLabelPosition::LowerRight,
    }
    .png(path)
}

/// A line chart: curves of (x, y) points, each in its own colour (blue, red, green, orange,
/// then others), with a legend.
pub struct Chart {
    pub title: String,
    pub x_desc: &'static str,
    pub y_desc: &'static str,
    pub x: std::ops::Range<f64>,
    pub y: std::ops::Range<f64>,
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    pub legend: SeriesLabelPosition,
}

/// The curves' colours, in order.
const COLORS: [RGBColor; 6] = [
    BLUE,
    RED,
    RGBColor(0, 150, 0),
    RGBColor(230, 140, 0),
    MAGENTA,
    CYAN,
];

impl Chart {
    /// Renders the chart in memory and writes it as a PNG at `path`, atomically. Without a font
    /// for the labels the chart has its axes and curves but no text; it is written either way.
    pub fn png(&self, path: &Path) -> Result<(), Error> {
        grid_png(path, std::slice::from_ref(self), 1, (640, 480))
    }

    /// Draws the chart on `area`; `small` for a panel of a grid (smaller text and margins).
    fn draw_on(
        &self,
        area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
        labels: bool,
        small: bool,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let (caption, text, margin) = if small { (13, 10, 6) } else { (22, 14, 16) };
        let mut builder = ChartBuilder::on(area);
        builder.margin(margin);
        if labels {
            builder
                .caption(&self.title, ("sans-serif", caption))
                .x_label_area_size(if small { 28 } else { 44 })
                .y_label_area_size(if small { 36 } else { 56 });
        }
        let mut chart = builder.build_cartesian_2d(self.x.clone(), self.y.clone())?;
        let mut mesh = chart.configure_mesh();
        if labels {
            mesh.x_desc(self.x_desc)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_desc(self.y_desc)
                .label_style(("sans-serif", text));
        } else {
            mesh.x_labels(0).y_labels(0);
        }
        mesh.draw()?;
        for ((label, points), color) in self.series.iter().zip(COLORS.iter().cycle()) {
            let color = *color;
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        if labels {
            chart
                .configure_series_labels()
                .position(self.legend.clone())
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", text))
                .draw()?;
        }
        Ok(())
    }
}

/// Charts drawn in a grid of `columns` columns on one image of `size` pixels, written as a
/// PNG at `path`, atomically (the book's 4×4 figures 6-18 and 6-24).
pub fn grid_png(
    path: &Path,
    charts: &[Chart],
    columns: usize,
    size: (u32, u32),
) -> Result<(), Error> {
    let labels = register_font();
    let (w, h) = size;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    let draw = |rgb: &mut [u8]| -> Result<(), Box<dyn std::error::Error>> {
        let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
        root.fill(&WHITE)?;
        let columns = columns.max(1);
        let rows = charts.len().div_ceil(columns).max(1);
        let areas = root.split_evenly((rows, columns));
        for (chart, area) in charts.iter().zip(&areas) {
            chart.draw_on(area, labels, charts.len() > 1)?;
        }
        root.present()?;
        Ok(())
    };
    draw(&mut rgb).map_err(|e| Error::Failed(format!("plot: {e}")))?;
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc
            .write_header()
            .map_err(|e| Error::Failed(format!("png: {e}")))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| Error::Failed(format!("png: {e}")))?;
    }
    write_atomic(path, |f| std::io::Write::write_all(f, &png_bytes))
}

/// The book's `smooth_curve` (`common/util.py`): a moving average weighted by a Kaiser window
/// of 11 (β = 2), the ends mirrored, as its loss figures are drawn.
pub fn smooth_curve(x: &[f64]) -> Vec<f64> {
    const WINDOW: usize = 11;
    if x.len() < WINDOW {
        return x.to_vec();
    }
    // np.kaiser(11, 2): I0(β·√(1 − (2n/(M−1) − 1)²)) / I0(β).
    let i0 = |z: f64| {
        let (mut sum, mut term) = (1.0, 1.0);
        for k in 1..50 {
            term *= (z / 2.0) * (z / 2.0) / (k * k) as f64;
            sum += term;
        }
        sum
    };
    let w: Vec<f64> = (0..WINDOW)
        .map(|n| {
            let r = 2.0 * n as f64 / (WINDOW - 1) as f64 - 1.0;
            i0(2.0 * (1.0 - r * r).sqrt()) / i0(2.0)
        })
        .collect();
    let total: f64 = w.iter().sum();
    // np.r_[x[W-1:0:-1], x, x[-1:-W:-1]]
    let mut s: Vec<f64> = x[1..WINDOW].iter().rev().copied().collect();
    s.extend_from_slice(x);
    s.extend(x[x.len() - WINDOW + 1..].iter().rev());
    let y: Vec<f64> = s
        .windows(WINDOW)
        .map(|win| {
            win.iter()
                .zip(w.iter().rev())
                .map(|(a, b)| a * b)
                .sum::<f64>()
                / total
        })
        .collect();
    y[5..y.len() - 5].to_vec()
}
