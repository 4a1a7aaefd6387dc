//! report.html: report.md as one self-contained page. The markdown is
//! rendered by pulldown-cmark; every chart it shows as `![alt](NAME.png)`
//! is put inline as the SVG of the export named NAME.svg (with links to
//! the files), so the page needs nothing beside it to show the charts. No
//! scripts, no fonts or styles from elsewhere; well-formed XML, and the
//! same bytes for the same summary.

use std::fmt::Write;

use anyhow::Result;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

use super::{Export, Summary};

pub struct Html;

impl Export for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        render(summary).map(String::into_bytes)
    }
}

fn render(summary: &Summary) -> Result<String> {
    let markdown = super::markdown::render(summary);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events: Vec<Event> = Parser::new_ext(&markdown, options).collect();
    let mut body = String::new();
    html::push_html(&mut body, for_page(events, summary)?.into_iter());

    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n");
    let _ = writeln!(page, "<title>{}</title>", escape(&summary.experiment.name));
    let _ = writeln!(page, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    page.push_str(&body);
    let _ = writeln!(
        page,
        "<details class=\"experiment\">\n<summary>Experiment file</summary>\n<pre>{}</pre>\n</details>",
        escape(&summary.experiment.source)
    );
    page.push_str("</main>\n</body>\n</html>\n");
    Ok(page)
}

/// The events with every image replaced by a figure (the chart's SVG inline
/// when an export draws it), each table in a box, and raw HTML shown as
/// text: report.md holds none on purpose, so anything that looks like a tag
/// is text to escape.
fn for_page<'a>(events: Vec<Event<'a>>, summary: &Summary) -> Result<Vec<Event<'a>>> {
    let mut out = Vec::with_capacity(events.len());
    let mut in_paragraph = false;
    let mut i = 0;
    while i < events.len() {
        match &events[i] {
            Event::Start(Tag::Image { dest_url, .. }) => {
                let end = image_end(&events, i);
                let alt = plain_text(&events[i + 1..end]);
                let figure = figure(dest_url, &alt, summary)?;
                // A chart alone in its paragraph replaces the paragraph
                // (a figure may not sit inside <p>); beside text, the
                // paragraph is closed around it.
                let alone = matches!(out.last(), Some(Event::Start(Tag::Paragraph)))
                    && matches!(events.get(end + 1), Some(Event::End(TagEnd::Paragraph)));
                if alone {
                    out.pop();
                    out.push(Event::Html(figure.into()));
                    in_paragraph = false;
                    i = end + 2;
                    continue;
                }
                if in_paragraph {
                    out.push(Event::Html(format!("</p>\n{figure}<p>").into()));
                } else {
                    out.push(Event::Html(figure.into()));
                }
                i = end + 1;
                continue;
            }
            Event::Start(Tag::Paragraph) => in_paragraph = true,
            Event::End(TagEnd::Paragraph) => in_paragraph = false,
            // A box around each table, which may be wider than the text.
            Event::Start(Tag::Table(_)) => out.push(Event::Html("<div class=\"table\">\n".into())),
            _ => {}
        }
        out.push(match &events[i] {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw.clone()),
            event => event.clone(),
        });
        if let Event::End(TagEnd::Table) = events[i] {
            out.push(Event::Html("</div>\n".into()));
        }
        i += 1;
    }
    Ok(out)
}

/// The index of the event closing the image opened at `start`.
fn image_end(events: &[Event], start: usize) -> usize {
    let mut depth = 0;
    for (i, event) in events.iter().enumerate().skip(start) {
        match event {
            Event::Start(Tag::Image { .. }) => depth += 1,
            Event::End(TagEnd::Image) => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    events.len() - 1
}

/// The text of inline events (an image's alt text), without markup.
fn plain_text(events: &[Event]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) => text.push_str(t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

/// A chart as a figure: the SVG of the export named like the PNG inline,
/// with links to both files; the PNG as an image when no export draws it.
fn figure(dest: &CowStr, alt: &str, summary: &Summary) -> Result<String> {
    let svg_name = dest.strip_suffix(".png").map(|stem| format!("{stem}.svg"));
    let export = svg_name
        .as_deref()
        .and_then(|name| super::exports().find(|e| e.file_name() == name && e.applies(summary)));
    let (dest, alt) = (escape(dest), escape(alt));
    let mut html = String::from("<figure>\n");
    match export {
        Some(export) => {
            let svg = String::from_utf8(export.render(summary)?)?;
            let _ = writeln!(html, "<div class=\"chart\">{}</div>", inline_svg(&svg));
            let _ = writeln!(
                html,
                "<figcaption>{alt} <span class=\"files\">(<a href=\"{dest}\">PNG</a>, <a href=\"{}\">SVG</a>)</span></figcaption>",
                escape(export.file_name())
            );
        }
        None => {
            let _ = writeln!(
                html,
                "<div class=\"chart\"><img src=\"{dest}\" alt=\"{alt}\" /></div>\n<figcaption>{alt}</figcaption>"
            );
        }
    }
    html.push_str("</figure>\n");
    Ok(html)
}

/// An SVG document as an element inside the page: without what may come
/// before its root (XML declaration, doctype, comments). Plotters gives
/// the root a viewBox, so the style can scale it to the page's width.
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |at| &svg[at..]).trim_end()
}

/// Text for HTML content or a quoted attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut out, text).expect("writing to a String cannot fail");
    out
}

/// The page's whole style: readable on screen, and on paper without
/// figures or table rows split across pages.
const STYLE: &str = r#"
:root { color-scheme: light; }
body { margin: 0; background: #fff; color: #1b1f24;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1, h2, h3, h4 { line-height: 1.25; margin: 2rem 0 0.75rem; }
h1 { font-size: 1.9rem; margin-top: 0.5rem; }
h2 { font-size: 1.45rem; padding-bottom: 0.25rem; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.2rem; }
h4 { font-size: 1.05rem; }
p, ul, ol { margin: 0.6rem 0; }
li { margin: 0.2rem 0; }
a { color: #0a58ca; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
code { background: #f3f4f6; border-radius: 3px; padding: 0.1em 0.3em; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 0.75rem; overflow-x: auto; }
pre code { background: none; padding: 0; }
/* A table starts at the text's left edge and may be wider than the text:
   up to the window's right edge, then moved left as far as it needs, up to
   the window's whole width; past that it scrolls. (The text is
   min(60rem, 100vw - 2.5rem) wide and centred; translate's % is the box's.) */
.table { width: max-content; min-width: 100%; max-width: calc(100vw - 2.5rem);
  margin: 0.75rem 0 1.25rem; overflow-x: auto;
  transform: translateX(min(0px, 50vw + min(30rem, 50vw - 1.25rem) - 1.25rem - 100%)); }
table { border-collapse: collapse; font-size: 0.88rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.55rem; vertical-align: top; }
th { background: #eef1f4; text-align: left; }
td[style*="right"] { white-space: nowrap; }
td:not([style*="right"]) { min-width: 6rem; }
tbody tr:nth-child(even) { background: #f6f8fa; }
figure { margin: 1.25rem 0; }
.chart svg, .chart img { display: block; width: 100%; height: auto; }
figcaption { margin-top: 0.35rem; color: #57606a; font-size: 0.9rem; text-align: center; }
details.experiment { margin-top: 2.5rem; border-top: 1px solid #d0d7de; padding-top: 0.75rem; }
details.experiment summary { cursor: pointer; font-weight: 600; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  figcaption .files { display: none; }
  .table { width: auto; min-width: 0; max-width: none; transform: none; overflow: visible; }
  table { font-size: 8pt; }
  td[style*="right"] { white-space: normal; }
  td:not([style*="right"]) { min-width: 0; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  figure, tr, pre { break-inside: avoid; page-break-inside: avoid; }
  .chart svg, .chart img { max-height: 90vh; }
  details.experiment { display: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_svg_is_inlined_from_its_root() {
        let svg = "<?xml version=\"1.0\"?>\n<svg viewBox=\"0 0 4 3\">\n</svg>\n";
        assert_eq!(inline_svg(svg), "<svg viewBox=\"0 0 4 3\">\n</svg>");
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;"
        );
    }
}
