//! report.html is report.md as one self-contained page: well-formed XML,
//! every chart of report.md inline as SVG, links only to files that exist
//! beside it, nothing fetched from the network, and the experiment echoed.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use roxmltree::{Document, Node, ParsingOptions};

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// Runs `experiments/NAME.toml` into a temporary directory.
fn run(name: &str) -> (tempfile::TempDir, PathBuf, String) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments")
        .join(format!("{name}.toml"));
    let source = fs::read_to_string(&file).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = common::run_in(dir.path(), &source, &[]);
    (dir, out, source)
}

/// The targets of the markdown images `![alt](target)` in `md`.
fn images(md: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = md;
    while let Some(at) = rest.find("![") {
        rest = &rest[at + 2..];
        let Some(close) = rest.find("](") else { break };
        let target = &rest[close + 2..];
        let Some(end) = target.find(')') else { break };
        found.push(target[..end].to_string());
        rest = &target[end..];
    }
    found
}

fn element<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Vec<Node<'a, 'i>> {
    node.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == name)
        .collect()
}

/// Whether `text` holds a number that did not come out as one.
fn has_non_number(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| matches!(word, "NaN" | "nan" | "inf" | "Infinity" | "infinity"))
}

/// Every check of one output directory; returns the charts it shows.
fn check(name: &str) -> Vec<String> {
    let (_dir, out, source) = run(name);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));

    // roxmltree refuses a doctype unless told it may have one.
    let options = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(&html, options)
        .unwrap_or_else(|e| panic!("{name}: not well-formed: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html");
    let title = element(root, "title");
    assert_eq!(title.len(), 1);
    let exp_name = md.lines().next().unwrap().trim_start_matches("# ");
    assert_eq!(title[0].text(), Some(exp_name));
    assert!(
        element(root, "meta")
            .iter()
            .any(|m| m.attribute("charset") == Some("utf-8"))
    );
    for banned in ["script", "link", "iframe", "object", "embed"] {
        assert!(element(root, banned).is_empty(), "{name}: has <{banned}>");
    }

    // Links and images only to files of the output directory, and nothing
    // from the network (the SVG namespace is a name, not a request).
    for node in root.descendants().filter(|n| n.is_element()) {
        for attr in node.attributes() {
            let value = attr.value();
            assert!(
                !value.contains("http://") && !value.contains("https://"),
                "{name}: <{} {}=\"{value}\">",
                node.tag_name().name(),
                attr.name()
            );
            if matches!(attr.name(), "src" | "href") && !value.starts_with('#') {
                assert!(
                    out.join(value).is_file(),
                    "{name}: {value} is linked but not written"
                );
            }
        }
    }
    let network = html.replace(&format!("xmlns=\"{SVG_NS}\""), "");
    assert!(!network.contains("http://") && !network.contains("https://"));
    assert!(
        !network.contains("url("),
        "{name}: the style fetches something"
    );

    // Every chart of report.md is inline SVG in a figure linking its PNG.
    let charts = images(&md);
    let figures = element(root, "figure");
    for chart in &charts {
        let figure = figures
            .iter()
            .find(|f| {
                element(**f, "a")
                    .iter()
                    .any(|a| a.attribute("href") == Some(chart.as_str()))
            })
            .unwrap_or_else(|| panic!("{name}: no figure links {chart}"));
        let svg = element(*figure, "svg");
        assert_eq!(svg.len(), 1, "{name}: {chart} is not inline SVG");
        assert_eq!(svg[0].tag_name().namespace(), Some(SVG_NS));
        assert!(svg[0].attribute("viewBox").is_some(), "{name}: {chart}");
        assert!(
            element(*figure, "figcaption").len() == 1,
            "{name}: {chart} has no caption"
        );
    }
    assert_eq!(figures.len(), charts.len(), "{name}: one figure per chart");
    assert_eq!(html.matches("<svg").count(), charts.len());
    assert!(
        element(root, "img").is_empty(),
        "{name}: a chart left as PNG"
    );

    // report.md's tables, with the alignment it gives.
    let tables = element(root, "table").len();
    let delimiter_rows = md
        .lines()
        .filter(|l| l.starts_with('|') && l.contains('-'))
        .filter(|l| l.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')))
        .count();
    assert_eq!(
        tables, delimiter_rows,
        "{name}: one table per markdown table"
    );
    if tables > 0 {
        assert!(html.contains("<td style=\"text-align: right\">"));
    }

    // The numbers are numbers, in the text and in the charts.
    for node in root.descendants() {
        let text = node.text().unwrap_or_default();
        assert!(!has_non_number(text), "{name}: {text:?}");
        for attr in node.attributes() {
            assert!(!has_non_number(attr.value()), "{name}: {}", attr.value());
        }
    }

    // The experiment file, as written, in a collapsed block at the end.
    let details = element(root, "details");
    assert_eq!(details.len(), 1);
    assert!(details[0].attribute("open").is_none());
    let pre = element(details[0], "pre");
    assert_eq!(pre[0].text(), Some(source.as_str()));
    charts
}

#[test]
fn quickstart_report_html() {
    let charts = check("quickstart");
    assert!(charts.iter().any(|c| c == "mrc.png"), "{charts:?}");
}

#[test]
fn limiters_report_html() {
    let charts = check("limiters");
    assert!(charts.iter().any(|c| c == "limiters.png"), "{charts:?}");
}

#[test]
fn workshop_report_html() {
    let charts = check("workshop");
    assert!(charts.len() >= 2, "{charts:?}");
}

#[test]
fn finds_markdown_images() {
    assert_eq!(
        images("# t\n\n![a b](x.png)\n\ntext ![c](y.png) and [link](z.md)\n"),
        ["x.png", "y.png"]
    );
    assert!(has_non_number("p95 NaN ms"));
    assert!(has_non_number("-inf"));
    assert!(!has_non_number("info, infinite, nano"));
}
