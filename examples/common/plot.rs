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
    let labels = register_font();
    let (w, h) = (640u32, 480u32);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    draw(&mut rgb, (w, h), train, test, labels).map_err(|e| Error::Failed(format!("plot: {e}")))?;
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

fn draw(
    rgb: &mut [u8],
    size: (u32, u32),
    train: &[f64],
    test: &[f64],
    labels: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
    root.fill(&WHITE)?;
    let epochs = train.len().max(1) as f64;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(16);
    if labels {
        builder
            .caption("TwoLayerNet on MNIST", ("sans-serif", 22))
            .x_label_area_size(44)
            .y_label_area_size(56);
    }
    let mut chart = builder.build_cartesian_2d(0f64..(epochs - 1.0).max(1.0), 0f64..1f64)?;
    let mut mesh = chart.configure_mesh();
    if labels {
        mesh.x_desc("epochs")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc("accuracy")
            .label_style(("sans-serif", 14));
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw()?;
    let series = [(train, "train acc", BLUE), (test, "test acc", RED)];
    for (data, label, color) in series {
        let points = data.iter().enumerate().map(|(i, a)| (i as f64, *a));
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if labels {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
