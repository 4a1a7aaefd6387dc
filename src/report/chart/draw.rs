//! Draws a [`Figure`] with plotters, in pixels: frames, grid and ticks,
//! lines, markers, whiskers, bars, rules, point labels placed where they
//! overlap nothing, labels at line ends, and the key beside the panels.
//! The same code writes PNG and SVG; the font is embedded (DejaVu Sans).

use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{Fitted, format_value};
use super::figure::{Bar, Content, Figure, Key, Panel, Point, Rule, Series};
use super::style::{self, Marker, Style};

const WIDTH: u32 = 1000;
const TITLE: i32 = 46;
/// Height of a panel with value axes, alone or in a pair / in a stack.
const TALL: i32 = 430;
const SHORT: i32 = 230;
const BAR_ROW: i32 = 26;
const KEY_ROW: i32 = 22;
/// The widest a key or a row name may get before it is shortened.
const MAX_LABEL: u32 = 300;

type Rect = (i32, i32, i32, i32);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is valid"));
    });
}

impl Figure {
    pub fn png(&self) -> Result<Vec<u8>> {
        register_font();
        let size = (WIDTH, self.height());
        let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| anyhow!("{e}"))?;
        }
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, size.0, size.1);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&rgb)?;
        Ok(png)
    }

    pub fn svg(&self) -> Result<Vec<u8>> {
        register_font();
        let mut svg = String::new();
        {
            let root =
                SVGBackend::with_string(&mut svg, (WIDTH, self.height())).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(|e| anyhow!("{e}"))?;
        }
        Ok(svg.into_bytes())
    }

    fn rows(&self) -> Vec<&[Panel]> {
        self.panels.chunks(self.columns.max(1)).collect()
    }

    fn row_height(&self, row: &[Panel]) -> i32 {
        let stacked = self.rows().len() > 2;
        row.iter()
            .map(|p| match &p.content {
                Content::Bars(bars) => 110 + BAR_ROW * bars.len() as i32,
                Content::Xy { .. } if stacked => SHORT,
                Content::Xy { .. } => TALL,
            })
            .max()
            .unwrap_or(TALL)
    }

    fn height(&self) -> u32 {
        let panels: i32 = self.rows().iter().map(|r| self.row_height(r)).sum();
        let key = KEY_ROW * self.legend.len() as i32 + 20;
        (TITLE + panels.max(key) + 10) as u32
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>
    where
        DB::ErrorType: 'static,
    {
        let mut pen = Pen {
            root,
            tick_floor: 0,
        };
        pen.root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        pen.text(
            &self.title,
            (WIDTH as i32 / 2, 12),
            22,
            style::TEXT,
            Pos::new(HPos::Center, VPos::Top),
        )?;
        let key_width = if self.legend.is_empty() {
            0
        } else {
            let widest = self
                .legend
                .iter()
                .map(|k| pen.width(&k.label, 14))
                .max()
                .unwrap_or(0);
            widest.min(MAX_LABEL) as i32 + 56
        };
        let width = WIDTH as i32 - key_width;
        // Stacked panels line up: their plots start after the widest y tick.
        if self.columns == 1 {
            pen.tick_floor = self
                .panels
                .iter()
                .filter_map(|p| match &p.content {
                    Content::Xy { series, rules } => Some(fit_y(p, series, rules)),
                    Content::Bars(_) => None,
                })
                .flat_map(|y| y.ticks)
                .map(|t| pen.width(&t.1, 13) as i32)
                .max()
                .unwrap_or(0);
        }
        let mut top = TITLE;
        for row in self.rows() {
            let height = self.row_height(row);
            let cell = width / row.len() as i32;
            for (i, panel) in row.iter().enumerate() {
                let area = (i as i32 * cell, top, (i as i32 + 1) * cell, top + height);
                pen.panel(panel, area)?;
            }
            top += height;
        }
        pen.legend(&self.legend, (width + 8, TITLE + 10))?;
        Ok(())
    }
}

/// Drawing helpers over one drawing area.
struct Pen<'a, DB: DrawingBackend> {
    root: &'a DrawingArea<DB, Shift>,
    /// The least room left for y tick labels.
    tick_floor: i32,
}

impl<DB: DrawingBackend> Pen<'_, DB>
where
    DB::ErrorType: 'static,
{
    fn font(&self, size: u32, color: RGBColor, pos: Pos) -> TextStyle<'static> {
        ("sans-serif", size).into_font().color(&color).pos(pos)
    }

    fn width(&self, text: &str, size: u32) -> u32 {
        self.root
            .estimate_text_size(text, &self.font(size, style::TEXT, Pos::default()))
            .map_or(text.len() as u32 * size / 2, |s| s.0)
    }

    /// `text` cut with an ellipsis to at most `max` pixels.
    fn fit(&self, text: &str, size: u32, max: u32) -> String {
        if self.width(text, size) <= max {
            return text.to_string();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let cut: String = chars.iter().collect::<String>() + "…";
            if self.width(&cut, size) <= max {
                return cut;
            }
        }
        "…".into()
    }

    fn text(
        &mut self,
        text: &str,
        at: (i32, i32),
        size: u32,
        color: RGBColor,
        pos: Pos,
    ) -> Result<()> {
        let font = self.font(size, color, pos);
        self.root
            .draw(&Text::new(text.to_string(), at, font))
            .map_err(|e| anyhow!("{e}"))
    }

    /// `text` in the text colour, centred vertically on `at` and ending
    /// there (`HPos::Right`) or starting there (`HPos::Left`): the labels
    /// of ticks, keys and bars.
    fn label(&mut self, text: &str, at: (i32, i32), size: u32, side: HPos) -> Result<()> {
        self.text(text, at, size, style::TEXT, Pos::new(side, VPos::Center))
    }

    fn vertical_text(&mut self, text: &str, at: (i32, i32), size: u32) -> Result<()> {
        let font = ("sans-serif", size)
            .into_font()
            .transform(FontTransform::Rotate270)
            .color(&style::TEXT)
            .pos(Pos::new(HPos::Center, VPos::Center));
        self.root
            .draw(&Text::new(text.to_string(), at, font))
            .map_err(|e| anyhow!("{e}"))
    }

    fn line(&mut self, points: Vec<(i32, i32)>, style: &Style) -> Result<()> {
        let stroke = style.color.stroke_width(style.width);
        match style.dash {
            // A wide line's join at a sharp turn (a spike in a time series)
            // is drawn as a long miter in bitmaps: split it there.
            None if style.width > 1 && points.len() > 2 => {
                for piece in at_sharp_turns(&points) {
                    self.root
                        .draw(&PathElement::new(piece.to_vec(), stroke))
                        .map_err(|e| anyhow!("{e}"))?;
                }
                Ok(())
            }
            None => self.root.draw(&PathElement::new(points, stroke)),
            Some((dash, gap)) => self
                .root
                .draw(&DashedPathElement::new(points, dash, gap, stroke)),
        }
        .map_err(|e| anyhow!("{e}"))
    }

    fn rect(&mut self, r: Rect, fill: ShapeStyle) -> Result<()> {
        self.root
            .draw(&Rectangle::new([(r.0, r.1), (r.2, r.3)], fill))
            .map_err(|e| anyhow!("{e}"))
    }

    fn marker(&mut self, (x, y): (i32, i32), style: &Style) -> Result<()> {
        let r = 2 + style.width as i32;
        let fill = style.color.filled();
        let result = match style.marker {
            Marker::None => return Ok(()),
            Marker::Circle => self.root.draw(&Circle::new((x, y), r, fill)),
            Marker::Square => self.root.draw(&Rectangle::new(
                [(x - r + 1, y - r + 1), (x + r - 1, y + r - 1)],
                fill,
            )),
            Marker::Triangle => self.root.draw(&Polygon::new(
                vec![(x, y - r - 1), (x - r, y + r - 1), (x + r, y + r - 1)],
                fill,
            )),
            Marker::Diamond => self.root.draw(&Polygon::new(
                vec![(x, y - r - 1), (x + r, y), (x, y + r + 1), (x - r, y)],
                fill,
            )),
            Marker::Cross => {
                let stroke = style.color.stroke_width(3);
                self.root
                    .draw(&PathElement::new(
                        vec![(x - r, y - r), (x + r, y + r)],
                        stroke,
                    ))
                    .and_then(|_| {
                        self.root.draw(&PathElement::new(
                            vec![(x - r, y + r), (x + r, y - r)],
                            stroke,
                        ))
                    })
            }
        };
        result.map_err(|e| anyhow!("{e}"))
    }

    /// A key entry's sample: a short line in the style, with its marker.
    fn sample(&mut self, (x, y): (i32, i32), style: &Style) -> Result<()> {
        if style.line {
            self.line(vec![(x, y), (x + 28, y)], style)?;
        }
        self.marker((x + 14, y), style)
    }

    fn legend(&mut self, keys: &[Key], (x, y): (i32, i32)) -> Result<()> {
        for (i, key) in keys.iter().enumerate() {
            let row = y + i as i32 * KEY_ROW;
            self.sample((x, row), &key.style)?;
            let label = self.fit(&key.label, 14, MAX_LABEL);
            self.label(&label, (x + 36, row), 14, HPos::Left)?;
        }
        Ok(())
    }

    fn panel(&mut self, panel: &Panel, area: Rect) -> Result<()> {
        match &panel.content {
            Content::Xy { series, rules } => self.xy(panel, series, rules, area),
            Content::Bars(bars) => self.bars(panel, bars, area),
        }
    }

    /// The frame, grid, ticks and axis names of a panel; returns the plot
    /// rectangle.
    fn frame(
        &mut self,
        panel: &Panel,
        x: &Fitted,
        y: &Fitted,
        area: Rect,
        right: i32,
    ) -> Result<Rect> {
        let head = self.panel_title(&panel.title, area)?;
        let tick_width = y
            .ticks
            .iter()
            .map(|t| self.width(&t.1, 13))
            .max()
            .unwrap_or(0)
            .max(self.tick_floor as u32) as i32;
        let plot = (
            area.0 + 34 + tick_width + 8,
            area.1 + head,
            area.2 - right,
            area.3 - x_axis_height(x),
        );
        self.rect(plot, WHITE.filled())?;
        self.x_axis(&panel.x.label, x, plot)?;
        let grid = style::LIGHT.stroke_width(1);
        let mut last_top = i32::MAX;
        for (v, label) in &y.ticks {
            let py = plot.3 - ((plot.3 - plot.1) as f64 * y.position(*v)).round() as i32;
            self.root
                .draw(&PathElement::new(vec![(plot.0, py), (plot.2, py)], grid))
                .map_err(|e| anyhow!("{e}"))?;
            if py + 8 < last_top {
                self.label(label, (plot.0 - 6, py), 13, HPos::Right)?;
                last_top = py - 8;
            }
        }
        self.root
            .draw(&Rectangle::new(
                [(plot.0, plot.1), (plot.2, plot.3)],
                style::GREY.stroke_width(1),
            ))
            .map_err(|e| anyhow!("{e}"))?;
        self.vertical_text(&panel.y.label, (area.0 + 12, (plot.1 + plot.3) / 2), 15)?;
        Ok(plot)
    }

    /// A panel's title, centred above it; returns the room it takes.
    fn panel_title(&mut self, title: &str, area: Rect) -> Result<i32> {
        if title.is_empty() {
            return Ok(12);
        }
        let at = ((area.0 + area.2) / 2, area.1 + 10);
        self.text(
            title,
            at,
            16,
            style::TEXT,
            Pos::new(HPos::Center, VPos::Top),
        )?;
        Ok(34)
    }

    /// Grid lines and tick labels along the bottom of `plot`, then the
    /// axis name. A label may have several lines; labels that would
    /// overlap the one before are left out.
    fn x_axis(&mut self, name: &str, x: &Fitted, plot: Rect) -> Result<()> {
        let grid = style::LIGHT.stroke_width(1);
        let mut last_end = i32::MIN;
        for (v, label) in &x.ticks {
            let px = plot.0 + ((plot.2 - plot.0) as f64 * x.position(*v)).round() as i32;
            self.root
                .draw(&PathElement::new(vec![(px, plot.1), (px, plot.3)], grid))
                .map_err(|e| anyhow!("{e}"))?;
            let w = label.lines().map(|l| self.width(l, 13)).max().unwrap_or(0) as i32;
            if px - w / 2 > last_end + 6 {
                for (k, line) in label.lines().enumerate() {
                    let at = (px, plot.3 + 6 + LINE * k as i32);
                    self.text(line, at, 13, style::TEXT, Pos::new(HPos::Center, VPos::Top))?;
                }
                last_end = px + w / 2;
            }
        }
        let at = ((plot.0 + plot.2) / 2, plot.3 + x_axis_height(x) - 24);
        self.text(name, at, 15, style::TEXT, Pos::new(HPos::Center, VPos::Top))
    }

    fn xy(&mut self, panel: &Panel, series: &[Series], rules: &[Rule], area: Rect) -> Result<()> {
        let finite = |p: &&Point| p.x.is_finite() && p.y.is_finite();
        let rule_values = |vertical: bool| {
            rules
                .iter()
                .filter(move |r| r.vertical == vertical)
                .map(|r| r.at)
        };
        let xs = series
            .iter()
            .flat_map(|s| s.points.iter().filter(finite).map(|p| p.x));
        let x = panel.x.fit(xs.chain(rule_values(true)));
        let y = fit_y(panel, series, rules);
        let end_labels: Vec<&Series> = series
            .iter()
            .filter(|s| s.end_label && !s.points.is_empty())
            .collect();
        let right = end_labels
            .iter()
            .map(|s| self.width(&s.label, 13).min(180) as i32 + 14)
            .max()
            .unwrap_or(24);
        let plot = self.frame(panel, &x, &y, area, right)?;
        let to_px = |vx: f64, vy: f64| -> (i32, i32) {
            let px = plot.0 as f64 + (plot.2 - plot.0) as f64 * x.position(vx).clamp(0.0, 1.0);
            let py = plot.3 as f64 - (plot.3 - plot.1) as f64 * y.position(vy).clamp(0.0, 1.0);
            (px.round() as i32, py.round() as i32)
        };
        // Context first, so the featured series are drawn over it.
        let mut order: Vec<&Series> = series.iter().collect();
        order.sort_by_key(|s| !s.style.is_context());
        let mut occupied: Vec<Rect> = Vec::new();
        for s in &order {
            let points: Vec<(i32, i32)> = s
                .points
                .iter()
                .filter(finite)
                .map(|p| to_px(p.x, p.y))
                .collect();
            for p in s.points.iter().filter(finite) {
                if let Some((lo, hi)) = p.y_interval {
                    let (px, a) = to_px(p.x, lo);
                    let (_, b) = to_px(p.x, hi);
                    let whisker = Style {
                        dash: None,
                        width: 1,
                        ..s.style
                    };
                    self.line(vec![(px, a), (px, b)], &whisker)?;
                    self.line(vec![(px - 4, a), (px + 4, a)], &whisker)?;
                    self.line(vec![(px - 4, b), (px + 4, b)], &whisker)?;
                }
            }
            if s.style.line && points.len() > 1 {
                self.line(points.clone(), &s.style)?;
                // Labels keep off the line too: boxes along each segment.
                for w in points.windows(2) {
                    let steps = ((w[1].0 - w[0].0).abs().max((w[1].1 - w[0].1).abs()) / 6).max(1);
                    for k in 0..=steps {
                        let x = w[0].0 + (w[1].0 - w[0].0) * k / steps;
                        let y = w[0].1 + (w[1].1 - w[0].1) * k / steps;
                        occupied.push((x - 2, y - 2, x + 2, y + 2));
                    }
                }
            }
            for &p in &points {
                self.marker(p, &s.style)?;
                occupied.push((p.0 - 6, p.1 - 6, p.0 + 6, p.1 + 6));
            }
        }
        for r in rules {
            let (a, b) = if r.vertical {
                (to_px(r.at, y.lo), to_px(r.at, y.hi))
            } else {
                (to_px(x.lo, r.at), to_px(x.hi, r.at))
            };
            self.line(vec![a, b], &r.style)?;
        }
        self.rule_labels(rules, plot, &to_px, &x, &y, &mut occupied)?;
        self.point_labels(series, plot, &to_px, &mut occupied)?;
        self.end_labels(&end_labels, plot, &to_px)
    }

    /// Rule labels: beside vertical rules at the top, above horizontal
    /// ones at the right; moved down when they would overlap.
    fn rule_labels(
        &mut self,
        rules: &[Rule],
        plot: Rect,
        to_px: &dyn Fn(f64, f64) -> (i32, i32),
        x: &Fitted,
        y: &Fitted,
        occupied: &mut Vec<Rect>,
    ) -> Result<()> {
        for r in rules.iter().filter(|r| !r.label.is_empty()) {
            let w = self.width(&r.label, 12) as i32;
            let (mut at, pos) = if r.vertical {
                let (px, _) = to_px(r.at, y.hi);
                // Clear of the markers on the rule.
                let left = px + w + 14 > plot.2;
                let x0 = if left { px - 8 } else { px + 8 };
                (
                    (x0, plot.1 + 4),
                    Pos::new(if left { HPos::Right } else { HPos::Left }, VPos::Top),
                )
            } else {
                let (_, py) = to_px(x.hi, r.at);
                ((plot.2 - 4, py - 16), Pos::new(HPos::Right, VPos::Top))
            };
            let boxed = |at: (i32, i32)| match pos.h_pos {
                HPos::Right => (at.0 - w, at.1, at.0, at.1 + 14),
                _ => (at.0, at.1, at.0 + w, at.1 + 14),
            };
            while occupied.iter().any(|o| overlap(*o, boxed(at)) > 0) && at.1 < plot.3 - 20 {
                at.1 += 15;
            }
            occupied.push(boxed(at));
            self.text(&r.label, at, 12, r.style.color, pos)?;
        }
        Ok(())
    }

    /// Labels beside points: each goes to the first of several places
    /// around its point that overlaps nothing drawn or labelled; failing
    /// that, further out with a leader line; failing that, where it
    /// overlaps least.
    fn point_labels(
        &mut self,
        series: &[Series],
        plot: Rect,
        to_px: &dyn Fn(f64, f64) -> (i32, i32),
        occupied: &mut Vec<Rect>,
    ) -> Result<()> {
        let mut labelled: Vec<(&Point, &Style)> = series
            .iter()
            .flat_map(|s| {
                s.points
                    .iter()
                    .filter(|p| p.label.is_some())
                    .map(move |p| (p, &s.style))
            })
            .filter(|(p, _)| p.x.is_finite() && p.y.is_finite())
            .collect();
        // Crowded points first, while there is room around them.
        labelled.sort_by(|a, b| a.0.x.total_cmp(&b.0.x).then(a.0.y.total_cmp(&b.0.y)));
        for (p, s) in labelled {
            let text = p.label.as_deref().unwrap_or_default();
            let w = text.lines().map(|l| self.width(l, 12)).max().unwrap_or(0) as i32;
            let h = 14 * text.lines().count().max(1) as i32;
            let (px, py) = to_px(p.x, p.y);
            let mut best: Option<(i64, Rect, bool)> = None;
            'rings: for (ring, d) in [(false, 8), (true, 34), (true, 64)] {
                for (dx, dy) in [
                    (1, 0),
                    (-1, 0),
                    (0, -1),
                    (0, 1),
                    (1, -1),
                    (1, 1),
                    (-1, -1),
                    (-1, 1),
                ] {
                    let x0 = match dx {
                        1 => px + d,
                        -1 => px - d - w,
                        _ => px - w / 2,
                    };
                    let y0 = match dy {
                        1 => py + d / 2 + 2,
                        -1 => py - d / 2 - h - 2,
                        _ => py - h / 2,
                    };
                    let r = (x0, y0, x0 + w, y0 + h);
                    let inside = r.0 >= plot.0 + 2
                        && r.2 <= plot.2 - 2
                        && r.1 >= plot.1 + 2
                        && r.3 <= plot.3 - 2;
                    let clash: i64 = occupied.iter().map(|o| overlap(*o, r)).sum::<i64>()
                        + if inside { 0 } else { 1_000_000 };
                    if best.is_none_or(|b| clash < b.0) {
                        best = Some((clash, r, ring));
                    }
                    if clash == 0 {
                        break 'rings;
                    }
                }
            }
            let Some((_, r, leader)) = best else { continue };
            if leader {
                let to = (r.0.clamp(px.min(r.0), r.2), ((r.1 + r.3) / 2));
                let near = (if r.0 > px { r.0 } else { r.2 }, to.1);
                let thin = Style {
                    width: 1,
                    dash: None,
                    ..*s
                };
                self.line(vec![(px, py), near], &thin)?;
            }
            occupied.push(r);
            let color = if s.is_context() { style::TEXT } else { s.color };
            for (k, line) in text.lines().enumerate() {
                let at = (r.0, r.1 + 14 * k as i32);
                self.text(line, at, 12, color, Pos::new(HPos::Left, VPos::Top))?;
            }
        }
        Ok(())
    }

    /// Names at the right end of lines, pushed apart so none overlap.
    fn end_labels(
        &mut self,
        series: &[&Series],
        plot: Rect,
        to_px: &dyn Fn(f64, f64) -> (i32, i32),
    ) -> Result<()> {
        let mut ends: Vec<(i32, &Series)> = series
            .iter()
            .filter_map(|s| {
                let last = s
                    .points
                    .iter()
                    .rev()
                    .find(|p| p.x.is_finite() && p.y.is_finite())?;
                Some((to_px(last.x, last.y).1, *s))
            })
            .collect();
        ends.sort_by_key(|e| e.0);
        const GAP: i32 = 15;
        for i in 1..ends.len() {
            ends[i].0 = ends[i].0.max(ends[i - 1].0 + GAP);
        }
        // Back up from the bottom edge when the stack runs past it.
        let overflow = ends.last().map_or(0, |e| e.0 - (plot.3 - 6));
        if overflow > 0 {
            for e in &mut ends {
                e.0 -= overflow;
            }
        }
        for (y, s) in ends {
            let label = self.fit(&s.label, 13, 180);
            let color = if s.style.is_context() {
                style::TEXT
            } else {
                s.style.color
            };
            self.text(
                &label,
                (plot.2 + 6, y),
                13,
                color,
                Pos::new(HPos::Left, VPos::Center),
            )?;
        }
        Ok(())
    }

    /// Horizontal bars, one row each, with whiskers and a value after.
    fn bars(&mut self, panel: &Panel, bars: &[Bar], area: Rect) -> Result<()> {
        let values = bars.iter().flat_map(|b| {
            let (lo, hi) = b.interval.unwrap_or((b.value, b.value));
            [b.value, lo, hi, 0.0]
        });
        let x = panel.x.fit(values.filter(|v| v.is_finite()));
        let names: Vec<String> = bars
            .iter()
            .map(|b| self.fit(&b.label, 13, MAX_LABEL))
            .collect();
        let name_width = names.iter().map(|n| self.width(n, 13)).max().unwrap_or(0) as i32;
        let notes = bars
            .iter()
            .map(|b| self.width(&bar_text(b, &x), 12) as i32)
            .max()
            .unwrap_or(0);
        let head = self.panel_title(&panel.title, area)?;
        let plot = (
            area.0 + name_width + 20,
            area.1 + head,
            area.2 - notes - 20,
            area.3 - x_axis_height(&x),
        );
        let px = |v: f64| {
            plot.0 + ((plot.2 - plot.0) as f64 * x.position(v).clamp(0.0, 1.0)).round() as i32
        };
        self.x_axis(&panel.x.label, &x, plot)?;
        let zero = px(0.0f64.clamp(x.lo, x.hi));
        for (i, (b, name)) in bars.iter().zip(&names).enumerate() {
            let mid = plot.1 + BAR_ROW / 2 + i as i32 * BAR_ROW;
            self.label(name, (plot.0 - 8, mid), 13, HPos::Right)?;
            if !b.value.is_finite() {
                continue;
            }
            let end = px(b.value);
            let fill = b
                .style
                .color
                .mix(if b.style.is_context() { 0.6 } else { 0.85 });
            self.rect(
                (zero.min(end), mid - 8, zero.max(end), mid + 8),
                fill.filled(),
            )?;
            let mut tip = end.max(zero);
            if let Some((lo, hi)) = b.interval {
                let whisker = Style {
                    width: 1,
                    dash: None,
                    color: style::BLACK,
                    ..b.style
                };
                self.line(vec![(px(lo), mid), (px(hi), mid)], &whisker)?;
                self.line(vec![(px(lo), mid - 5), (px(lo), mid + 5)], &whisker)?;
                self.line(vec![(px(hi), mid - 5), (px(hi), mid + 5)], &whisker)?;
                tip = tip.max(px(hi));
            }
            self.label(&bar_text(b, &x), (tip + 6, mid), 12, HPos::Left)?;
        }
        self.line(
            vec![(zero, plot.1), (zero, plot.3)],
            &Style {
                width: 1,
                ..Style::rule(style::BLACK).dashed(None)
            },
        )
    }
}

/// Height of a tick label line.
const LINE: i32 = 15;

/// Room below a plot for its tick labels and axis name.
fn x_axis_height(x: &Fitted) -> i32 {
    let lines = x
        .ticks
        .iter()
        .map(|t| t.1.lines().count())
        .max()
        .unwrap_or(1) as i32;
    36 + LINE * lines
}

/// The y axis of an xy panel, fitted to its points, whiskers and rules.
fn fit_y(panel: &Panel, series: &[Series], rules: &[Rule]) -> Fitted {
    let ys = series.iter().flat_map(|s| {
        s.points
            .iter()
            .filter(|p| p.x.is_finite() && p.y.is_finite())
            .flat_map(|p| {
                let (lo, hi) = p.y_interval.unwrap_or((p.y, p.y));
                [p.y, lo, hi]
            })
    });
    let at = rules.iter().filter(|r| !r.vertical).map(|r| r.at);
    panel.y.fit(ys.chain(at))
}

/// What a bar says after its end: its value, and its note.
fn bar_text(b: &Bar, x: &Fitted) -> String {
    let value = format_value(b.value, x.unit);
    if b.note.is_empty() {
        value
    } else {
        format!("{value}  {}", b.note)
    }
}

/// `points` in pieces that turn by less than a right angle at each inner
/// point (neighbouring pieces share their end point).
fn at_sharp_turns(points: &[(i32, i32)]) -> Vec<&[(i32, i32)]> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 1..points.len() - 1 {
        let (a, b, c) = (points[i - 1], points[i], points[i + 1]);
        let dot = (b.0 - a.0) as i64 * (c.0 - b.0) as i64 + (b.1 - a.1) as i64 * (c.1 - b.1) as i64;
        if dot < 0 {
            pieces.push(&points[start..=i]);
            start = i;
        }
    }
    pieces.push(&points[start..]);
    pieces
}

/// The area two rectangles share, in square pixels.
fn overlap(a: Rect, b: Rect) -> i64 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0) as i64;
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0) as i64;
    w * h
}
