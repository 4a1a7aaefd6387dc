//! Charts, drawn with plotters in PNG and SVG from the same description. The
//! font is embedded (DejaVu Sans), so drawing needs nothing from the system.

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Export, Summary};

/// One line of a chart.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart: what to draw, independent of the file format.
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Logarithmic x axis, for sizes that span orders of magnitude.
    pub log_x: bool,
    /// Upper end of the y axis: the y range is 0 to the data's maximum plus
    /// 5%, kept between 5% of `y_max` and `y_max` (1 for ratios, 100 for
    /// percentages).
    pub y_max: f64,
    /// Radius of the point markers in pixels (larger for scatter-like
    /// charts whose series are single points).
    pub marker: u32,
}

const SIZE: (u32, u32) = (960, 600);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is valid"));
    });
}

impl LineChart {
    pub fn png(&self) -> Result<Vec<u8>> {
        register_font();
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| anyhow!("{e}"))?;
        }
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&rgb)?;
        Ok(png)
    }

    pub fn svg(&self) -> Result<Vec<u8>> {
        register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| anyhow!("{e}"))?;
        }
        Ok(svg.into_bytes())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{e}");
        root.fill(&WHITE).map_err(err)?;
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1));
        let (x0, x1) = bounds(xs);
        let (_, y1) = bounds(ys);
        let y_range = 0.0..(y1 * 1.05).clamp(0.05 * self.y_max, self.y_max);
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", 24))
            .margin(15)
            .margin_right(40)
            .x_label_area_size(45)
            .y_label_area_size(65);
        macro_rules! plot {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(self.x_label.as_str())
                    .y_desc(self.y_label.as_str())
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 17))
                    .draw()
                    .map_err(err)?;
                for (i, series) in self.series.iter().enumerate() {
                    let line = Palette99::pick(i).to_rgba().stroke_width(2);
                    chart
                        .draw_series(LineSeries::new(series.points.iter().copied(), line))
                        .map_err(err)?
                        .label(series.label.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
                    chart
                        .draw_series(
                            series
                                .points
                                .iter()
                                .map(|&p| Circle::new(p, self.marker, line.filled())),
                        )
                        .map_err(err)?;
                }
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerRight)
                    .label_font(("sans-serif", 15))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()
                    .map_err(err)?;
            }};
        }
        if self.log_x && x0 > 0.0 {
            plot!(
                builder
                    .build_cartesian_2d((x0 * 0.9..x1 * 1.1).log_scale(), y_range)
                    .map_err(err)?
            );
        } else {
            let pad = ((x1 - x0) * 0.05).max(x1.abs() * 0.05).max(1e-9);
            plot!(
                builder
                    .build_cartesian_2d((x0 - pad).max(0.0)..x1 + pad, y_range)
                    .map_err(err)?
            );
        }
        Ok(())
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// The miss-ratio-curve chart of an experiment: hit ratio against cache size,
/// one line per policy (and workload variant).
pub fn mrc(summary: &Summary) -> LineChart {
    let exp = summary.experiment;
    let bytes = summary.configs.iter().all(|c| c.unit == "bytes");
    let scale = if bytes { (1u64 << 20) as f64 } else { 1.0 };
    let mut series: Vec<Series> = Vec::new();
    for config in &summary.configs {
        let mut label = config.policy.clone();
        let dims = &exp.workloads[config.workload].dims;
        if !dims.is_empty() {
            let values: Vec<String> = dims
                .iter()
                .map(|(d, v)| format!("{}={v}", d.rsplit('.').next().unwrap_or(d)))
                .collect();
            label = format!("{label} ({})", values.join(", "));
        }
        let point = (config.capacity / scale, config.hit_ratio.mean);
        match series.iter_mut().find(|s| s.label == label) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                label,
                points: vec![point],
            }),
        }
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let (lo, hi) = bounds(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    LineChart {
        title: format!("{}: hit ratio by cache size", exp.name),
        x_label: if bytes {
            "cache size (MiB)".into()
        } else {
            "cache size (objects)".into()
        },
        y_label: "hit ratio".into(),
        series,
        log_x: lo > 0.0 && hi / lo > 20.0,
        y_max: 1.0,
        marker: 3,
    }
}

/// mrc.png or mrc.svg.
pub struct Chart {
    svg: bool,
}

impl Chart {
    pub const PNG: Chart = Chart { svg: false };
    pub const SVG: Chart = Chart { svg: true };
}

impl Export for Chart {
    fn file_name(&self) -> &'static str {
        if self.svg { "mrc.svg" } else { "mrc.png" }
    }

    fn applies(&self, summary: &Summary) -> bool {
        !summary.configs.is_empty()
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let chart = mrc(summary);
        if self.svg { chart.svg() } else { chart.png() }
    }
}
