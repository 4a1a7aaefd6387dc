//! The service charts' line chart (to be moved onto `chart`), drawn with plotters in PNG and SVG from the same description. The
//! font is embedded (DejaVu Sans), so drawing needs nothing from the system.

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
    /// How each series is drawn, by position; series without one get their
    /// own colour, solid.
    pub styles: Vec<Style>,
    /// Lines across the plot: thresholds and breaking points.
    pub rules: Vec<Rule>,
    pub legend: Legend,
    /// On a log axis, the only x values labelled (e.g. the load levels);
    /// empty: the axis picks its own. Non-empty also drops needless ".0"s.
    pub x_ticks: Vec<f64>,
    /// Room left above the data, as a fraction of its maximum, so a legend
    /// in an upper corner does not hide it.
    pub headroom: f64,
}

/// A series' colour (an index into the palette, so related series can
/// share one; None: grey, for a key to line styles) and dashes (dash and
/// gap in pixels; None: solid).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: Option<usize>,
    pub dash: Option<(u32, u32)>,
}

/// A dashed line across the whole plot at `at` on the x axis (`vertical`,
/// named in the legend) or the y axis (labelled at its right end).
#[derive(Debug, Clone)]
pub struct Rule {
    pub vertical: bool,
    pub at: f64,
    pub label: String,
    /// A palette index, to match a series; None: grey.
    pub color: Option<usize>,
}

/// Where the legend goes: a corner the data leaves free.
#[derive(Debug, Clone, Copy, Default)]
pub enum Legend {
    #[default]
    LowerRight,
    UpperLeft,
    UpperRight,
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
        // Rules stay on the plot even where the data does not reach them.
        let rules = |vertical: bool| {
            self.rules
                .iter()
                .filter(move |r| r.vertical == vertical)
                .map(|r| r.at)
        };
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .chain(rules(true));
        let ys = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .chain(rules(false));
        let (x0, x1) = bounds(xs);
        let (_, y1) = bounds(ys);
        let y_range = 0.0..(y1 * (1.05 + self.headroom)).clamp(0.05 * self.y_max, self.y_max);
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", 24))
            .margin(15)
            .margin_right(40)
            .x_label_area_size(45)
            .y_label_area_size(65);
        macro_rules! plot {
            ($chart:expr, $x_range:expr) => {{
                let mut chart = $chart;
                let x_range: (f64, f64) = $x_range;
                let mut mesh = chart.configure_mesh();
                mesh.x_desc(self.x_label.as_str())
                    .y_desc(self.y_label.as_str())
                    .label_style(("sans-serif", 15))
                    .axis_desc_style(("sans-serif", 17));
                if !self.x_ticks.is_empty() {
                    mesh.x_label_formatter(&tick_label);
                }
                mesh.draw().map_err(err)?;
                for (i, series) in self.series.iter().enumerate() {
                    let style = self.styles.get(i).copied().unwrap_or(Style {
                        color: Some(i),
                        dash: None,
                    });
                    let color = style
                        .color
                        .map_or(BLACK.mix(0.55), |c| Palette99::pick(c).to_rgba());
                    let line = color.stroke_width(2);
                    let points = series.points.iter().copied();
                    // A series without a label stays out of the legend.
                    let named = !series.label.is_empty();
                    match style.dash {
                        None => {
                            let drawn = chart
                                .draw_series(LineSeries::new(points, line))
                                .map_err(err)?;
                            if named {
                                drawn.label(series.label.as_str()).legend(move |(x, y)| {
                                    PathElement::new(vec![(x, y), (x + 20, y)], line)
                                });
                            }
                        }
                        Some((dash, gap)) => {
                            let drawn = chart
                                .draw_series(DashedLineSeries::new(points, dash, gap, line))
                                .map_err(err)?;
                            if named {
                                drawn.label(series.label.as_str()).legend(move |(x, y)| {
                                    DashedPathElement::new(
                                        vec![(x, y), (x + 24, y)],
                                        dash.min(6),
                                        gap.min(4),
                                        line,
                                    )
                                });
                            }
                        }
                    }
                    chart
                        .draw_series(
                            series
                                .points
                                .iter()
                                .map(|&p| Circle::new(p, self.marker, line.filled())),
                        )
                        .map_err(err)?;
                }
                for rule in &self.rules {
                    let color = rule
                        .color
                        .map_or(BLACK.mix(0.55), |c| Palette99::pick(c).to_rgba());
                    let line = color.stroke_width(2);
                    if rule.vertical {
                        // Named in the legend: a label beside the line would
                        // cross the data wherever the data goes.
                        let ends = vec![(rule.at, y_range.start), (rule.at, y_range.end)];
                        chart
                            .draw_series(DashedLineSeries::new(ends, 8, 5, line))
                            .map_err(err)?
                            .label(rule.label.as_str())
                            .legend(move |(x, y)| {
                                DashedPathElement::new(
                                    vec![(x + 10, y - 7), (x + 10, y + 7)],
                                    4,
                                    3,
                                    line,
                                )
                            });
                    } else {
                        let ends = vec![(x_range.0, rule.at), (x_range.1, rule.at)];
                        chart
                            .draw_series(DashedLineSeries::new(ends, 8, 5, line))
                            .map_err(err)?;
                        // At the right end: the legend usually sits at a left corner.
                        let font = ("sans-serif", 15)
                            .into_font()
                            .color(&color)
                            .pos(Pos::new(HPos::Right, VPos::Bottom));
                        chart
                            .draw_series(std::iter::once(
                                EmptyElement::at((x_range.1, rule.at))
                                    + Text::new(rule.label.clone(), (-8, -4), font),
                            ))
                            .map_err(err)?;
                    }
                }
                chart
                    .configure_series_labels()
                    .position(match self.legend {
                        Legend::LowerRight => SeriesLabelPosition::LowerRight,
                        Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
                        Legend::UpperRight => SeriesLabelPosition::UpperRight,
                    })
                    .label_font(("sans-serif", 15))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .draw()
                    .map_err(err)?;
            }};
        }
        let ticks = self.x_ticks.clone();
        match (self.log_x && x0 > 0.0, ticks.is_empty()) {
            (true, true) => {
                let x_range = (x0 * 0.9, x1 * 1.1);
                let x = (x_range.0..x_range.1).log_scale();
                plot!(
                    builder
                        .build_cartesian_2d(x, y_range.clone())
                        .map_err(err)?,
                    x_range
                );
            }
            (true, false) => {
                let x_range = (x0 * 0.9, x1 * 1.1);
                let x = (x_range.0..x_range.1).log_scale().with_key_points(ticks);
                plot!(
                    builder
                        .build_cartesian_2d(x, y_range.clone())
                        .map_err(err)?,
                    x_range
                );
            }
            // A linear axis picks evenly spaced ticks, which read well.
            (false, _) => {
                let pad = ((x1 - x0) * 0.05).max(x1.abs() * 0.05).max(1e-9);
                let x_range = ((x0 - pad).max(0.0), x1 + pad);
                plot!(
                    builder
                        .build_cartesian_2d(x_range.0..x_range.1, y_range.clone())
                        .map_err(err)?,
                    x_range
                );
            }
        }
        Ok(())
    }
}

/// A tick's value without a needless ".0".
fn tick_label(x: &f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}
