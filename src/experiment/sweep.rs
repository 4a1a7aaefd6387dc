//! Sweeps: any list in an experiment table is a dimension, and the runs are
//! the cartesian product of all dimensions. Expansion works on the parsed
//! TOML tree, which keeps every value's position in the file, so an error in
//! the third element of a list points at that element.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Located;

/// One concrete choice: the value to deserialize and the swept values that
/// produced it, as (dotted path, value as written).
#[derive(Clone)]
pub struct Variant<'i> {
    pub value: Spanned<DeValue<'i>>,
    pub dims: Vec<(String, String)>,
}

/// Fields whose value is a list of tables, not a sweep: a load's `phases`,
/// a workload's `routes`, a topology's `location`s and `region`s. To sweep
/// one, write a list of such lists.
const STRUCTURAL: [&str; 4] = ["phases", "routes", "location", "region"];

fn is_structural(path: &str, value: &DeValue) -> bool {
    let field = path.rsplit('.').next().unwrap_or(path);
    STRUCTURAL.contains(&field)
        && matches!(value, DeValue::Array(items)
            if items.iter().all(|i| matches!(i.get_ref(), DeValue::Table(_))))
}

/// Most variants one section may sweep into: the product of a few lists
/// grows fast, and a typo such as ten lists of ten values must be an error
/// at the list that crosses the line, not memory exhausted while expanding.
pub const MAX_VARIANTS: usize = 10_000;

/// Expands every list under `value` (whose dotted path is `path`) into the
/// cartesian product of its elements, in file order, last dimension fastest.
pub fn expand<'i>(path: &str, value: &Spanned<DeValue<'i>>) -> Result<Vec<Variant<'i>>, Located> {
    let span = value.span();
    if is_structural(path, value.get_ref()) {
        return Ok(vec![Variant {
            value: value.clone(),
            dims: vec![],
        }]);
    }
    match value.get_ref() {
        DeValue::Array(items) => {
            if items.is_empty() {
                return Err(Located::at(
                    span,
                    format!("{path}: empty list; a sweep needs at least one value"),
                ));
            }
            let mut out = Vec::new();
            for item in items {
                let label = render(item.get_ref());
                for mut v in expand(path, item)? {
                    v.dims.insert(0, (path.to_string(), label.clone()));
                    out.push(v);
                }
                if out.len() > MAX_VARIANTS {
                    return Err(too_many(item.span(), path, out.len()));
                }
            }
            Ok(out)
        }
        DeValue::Table(table) => {
            let mut partial: Vec<(DeTable<'i>, Vec<(String, String)>)> =
                vec![(DeTable::new(), vec![])];
            for (key, field) in table {
                let field_path = format!("{path}.{}", key.get_ref());
                let choices = expand(&field_path, field)?;
                let product = partial.len().saturating_mul(choices.len());
                if product > MAX_VARIANTS {
                    return Err(too_many(field.span(), &field_path, product));
                }
                partial = partial
                    .into_iter()
                    .flat_map(|(t, dims)| {
                        choices.iter().map(move |c| {
                            let mut t = t.clone();
                            t.insert(key.clone(), c.value.clone());
                            let mut dims = dims.clone();
                            dims.extend(c.dims.iter().cloned());
                            (t, dims)
                        })
                    })
                    .collect();
            }
            Ok(partial
                .into_iter()
                .map(|(t, dims)| Variant {
                    value: Spanned::new(span.clone(), DeValue::Table(t)),
                    dims,
                })
                .collect())
        }
        _ => Ok(vec![Variant {
            value: value.clone(),
            dims: vec![],
        }]),
    }
}

/// The error of a sweep that crosses [`MAX_VARIANTS`] at `path`.
fn too_many(span: std::ops::Range<usize>, path: &str, variants: usize) -> Located {
    let section = path.split('.').next().unwrap_or(path);
    Located::at(
        span,
        format!(
            "{path}: with this list, `{section}` sweeps into {variants} variants, more than the {MAX_VARIANTS} allowed; sweep fewer values or split the experiment"
        ),
    )
}

/// A value as a short, stable label for tables and run identities.
pub fn render(value: &DeValue) -> String {
    render_without(value, &[])
}

/// [`render`], leaving out table fields named in `skip` at any depth: the
/// identity of what remains.
pub fn render_without(value: &DeValue, skip: &[&str]) -> String {
    match value {
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => i
            .as_str()
            .replace('_', "")
            .parse::<i64>()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| i.as_str().to_string()),
        DeValue::Float(f) => f.as_str().replace('_', ""),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(d) => d.to_string(),
        DeValue::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|v| render_without(v.get_ref(), skip))
                .collect();
            format!("[{}]", items.join(","))
        }
        DeValue::Table(t) => {
            let fields: Vec<String> = t
                .iter()
                .filter(|(k, _)| !skip.contains(&k.get_ref().as_ref()))
                .map(|(k, v)| format!("{}={}", k.get_ref(), render_without(v.get_ref(), skip)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(src: &str) -> Vec<Vec<(String, String)>> {
        let doc = DeTable::parse(src).unwrap();
        let table = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
        expand("x", &table)
            .unwrap()
            .into_iter()
            .map(|v| v.dims)
            .collect()
    }

    #[test]
    fn lists_multiply_in_file_order() {
        let v = variants("a = [1, 2]\nb = 'k'\nc = { d = [0.5, 1.0] }\n");
        let labels: Vec<String> = v
            .iter()
            .map(|dims| {
                dims.iter()
                    .map(|(p, l)| format!("{p}={l}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            labels,
            [
                "x.a=1 x.c.d=0.5",
                "x.a=1 x.c.d=1.0",
                "x.a=2 x.c.d=0.5",
                "x.a=2 x.c.d=1.0"
            ]
        );
    }

    #[test]
    fn empty_list_is_an_error_at_its_position() {
        let src = "a = []\n";
        let doc = DeTable::parse(src).unwrap();
        let table = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
        let err = expand("x", &table).err().unwrap();
        assert_eq!(err.span.start, 4);
        assert!(err.message.contains("empty list"));
    }
}
