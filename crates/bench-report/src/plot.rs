//! Grouped bar charts as SVG (plotters' SVG backend, no fonts to load:
//! the viewer draws the text).

use std::path::Path;

use plotters::prelude::*;

/// Bars of each series, side by side per category.
#[derive(Debug)]
pub(crate) struct Chart {
    pub(crate) title: String,
    pub(crate) y_label: String,
    pub(crate) categories: Vec<String>,
    /// (legend, one value per category)
    pub(crate) series: Vec<(String, Vec<f64>)>,
}

const COLORS: [RGBColor; 3] = [
    RGBColor(0x4c, 0x72, 0xb0),
    RGBColor(0xdd, 0x84, 0x52),
    RGBColor(0x55, 0xa8, 0x68),
];

/// Draws `chart` into the SVG file `path`.
pub(crate) fn bars(path: &Path, chart: &Chart) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (760, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let count = chart.categories.len();
    let top = chart
        .series
        .iter()
        .flat_map(|(_, values)| values)
        .fold(0f64, |m, &v| m.max(v))
        * 1.4; // headroom for the legend above the bars
    // Category i is centred on x = i; its bars share i - 0.4 .. i + 0.4.
    let mut ctx = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5f64..count as f64 - 0.5, 0f64..top)
        .map_err(|e| err(&e))?;
    let names = &chart.categories;
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_labels(count + 1)
        .x_label_formatter(&|x| {
            let i = x.round();
            let name = (i >= 0.0 && (x - i).abs() < 1e-6)
                .then(|| names.get(i as usize))
                .flatten();
            name.cloned().unwrap_or_default()
        })
        .y_desc(&chart.y_label)
        .draw()
        .map_err(|e| err(&e))?;
    let width = 0.8 / chart.series.len() as f64;
    for (s, (legend, values)) in chart.series.iter().enumerate() {
        let color = COLORS[s % COLORS.len()];
        let left = |i: usize| i as f64 - 0.4 + s as f64 * width;
        ctx.draw_series(values.iter().enumerate().map(|(i, &v)| {
            Rectangle::new([(left(i), 0.0), (left(i) + width * 0.9, v)], color.filled())
        }))
        .map_err(|e| err(&e))?
        .label(legend.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
        ctx.draw_series(
            values
                .iter()
                .enumerate()
                .map(|(i, &v)| Text::new(label(v), (left(i), v + top * 0.05), ("sans-serif", 11))),
        )
        .map_err(|e| err(&e))?;
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// A bar's value, short.
fn label(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_its_categories_and_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        let chart = Chart {
            title: "title".into(),
            y_label: "µs".into(),
            categories: vec!["empty".into(), "4 KiB".into()],
            series: vec![
                ("idle".into(), vec![0.5, 3.0]),
                ("loaded".into(), vec![1.5, 12.0]),
            ],
        };
        bars(&path, &chart).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["title", "empty", "4 KiB", "idle", "loaded", "12", "0.50"] {
            assert!(svg.contains(&format!(">\n{text}\n<")), "{text} missing");
        }
    }
}
