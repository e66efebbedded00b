//! A model card as a Hugging Face README.md: YAML front matter (the metadata, and Pareto's cost
//! section under the `pareto` key) followed by Markdown. Reading one checks the front matter and
//! says which line is wrong; the `pareto` key of an imported card is dropped, because cost is
//! computed from the ledger, never typed.

use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

use super::{DiffLine, DiffLineKind};

/// The key Pareto's computed cost section lives under.
pub const COST_KEY: &str = "pareto";

/// The keys whose shape Pareto checks: (key, what it must be).
const KNOWN_KEYS: &[(&str, Shape)] = &[
    ("license", Shape::Text),
    ("language", Shape::TextOrList),
    ("datasets", Shape::TextOrList),
    ("base_model", Shape::TextOrList),
    ("pipeline_tag", Shape::Text),
    ("library_name", Shape::Text),
    ("tags", Shape::TextOrList),
    ("metrics", Shape::TextOrList),
    ("model-index", Shape::List),
];

#[derive(Clone, Copy)]
enum Shape {
    Text,
    TextOrList,
    List,
}

/// What is wrong with a card, and on which line of the README.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadmeError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ReadmeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Splits a README into its metadata and its Markdown body.
pub fn parse(text: &str) -> Result<(Map<String, Value>, String), ReadmeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next() else {
        return Ok((Map::new(), String::new()));
    };
    if first.trim_end() != "---" {
        // No front matter: a card that is all Markdown.
        return Ok((Map::new(), text.trim().to_owned()));
    }
    let mut yaml = String::new();
    let mut closed_at = None;
    for (index, line) in lines.by_ref().enumerate() {
        if line.trim_end() == "---" {
            closed_at = Some(index + 2);
            break;
        }
        yaml.push_str(line);
    }
    let Some(closing_line) = closed_at else {
        return Err(ReadmeError {
            line: 1,
            message: "the front matter opened with --- is never closed by a --- line".into(),
        });
    };
    let body: String = lines.collect();
    let value: Value = if yaml.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_yaml_ng::from_str(&yaml).map_err(|error| {
            let line = error.location().map_or(closing_line, |l| l.line() + 1);
            let message = error.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            ReadmeError {
                line,
                message: format!("the front matter is not valid YAML: {message}"),
            }
        })?
    };
    let Value::Object(mut metadata) = value else {
        return Err(ReadmeError {
            line: 2,
            message: "the front matter must be a mapping of keys (license: mit, tags: [...])"
                .into(),
        });
    };
    for (key, shape) in KNOWN_KEYS {
        let Some(value) = metadata.get(*key) else {
            continue;
        };
        let fits = match shape {
            Shape::Text => value.is_string(),
            Shape::TextOrList => {
                value.is_string()
                    || value
                        .as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string))
            }
            Shape::List => value.is_array(),
        };
        if !fits {
            let expected = match shape {
                Shape::Text => "one text value",
                Shape::TextOrList => "a text value or a list of them",
                Shape::List => "a list",
            };
            return Err(ReadmeError {
                line: line_of_key(&yaml, key),
                message: format!("`{key}` must be {expected}"),
            });
        }
    }
    metadata.remove(COST_KEY);
    Ok((metadata, body.trim().to_owned()))
}

/// The README line of a top-level key in the front matter (line 1 is the opening ---).
fn line_of_key(yaml: &str, key: &str) -> usize {
    yaml.lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(2, |index| index + 2)
}

/// Writes a README: the metadata, then the computed cost under `pareto`, then the Markdown.
pub fn write(metadata: &Map<String, Value>, cost: &Value, body: &str) -> String {
    let mut front = metadata.clone();
    front.remove(COST_KEY);
    front.insert(COST_KEY.to_owned(), cost.clone());
    let yaml = serde_yaml_ng::to_string(&Value::Object(front)).unwrap_or_default();
    format!("---\n{}---\n\n{}\n", yaml, body.trim())
}

/// The card as compared between revisions: the metadata as YAML, then the Markdown.
pub fn comparable(metadata: &Map<String, Value>, body: &str) -> String {
    let yaml = if metadata.is_empty() {
        String::new()
    } else {
        serde_yaml_ng::to_string(&Value::Object(metadata.clone())).unwrap_or_default()
    };
    format!("{yaml}---\n{}\n", body.trim())
}

/// Unchanged lines kept around each change; longer unchanged runs are folded.
const CONTEXT: usize = 2;

/// A line diff with a little unchanged context around each change.
pub fn diff(before: &str, after: &str) -> Vec<DiffLine> {
    let lines: Vec<DiffLine> = TextDiff::from_lines(before, after)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Equal => DiffLineKind::Same,
                ChangeTag::Delete => DiffLineKind::Removed,
                ChangeTag::Insert => DiffLineKind::Added,
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect();
    let changed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].kind != DiffLineKind::Same)
        .collect();
    let near_change = |i: usize| changed.iter().any(|&c| c.abs_diff(i) <= CONTEXT);
    let mut folded = Vec::new();
    let mut skipped = 0;
    for (index, line) in lines.into_iter().enumerate() {
        if line.kind == DiffLineKind::Same && !near_change(index) {
            skipped += 1;
            continue;
        }
        if skipped > 0 {
            folded.push(skipped_lines(skipped));
            skipped = 0;
        }
        folded.push(line);
    }
    if skipped > 0 {
        folded.push(skipped_lines(skipped));
    }
    folded
}

fn skipped_lines(count: usize) -> DiffLine {
    DiffLine {
        kind: DiffLineKind::Skipped,
        text: if count == 1 {
            "… 1 unchanged line".into()
        } else {
            format!("… {count} unchanged lines")
        },
    }
}

/// Markdown to HTML that is safe to put in the page: raw HTML, scripts, event handlers and
/// `javascript:` links are removed by the sanitizer.
pub fn render(markdown: &str) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CARD: &str = "---\nlicense: apache-2.0\nlanguage:\n- en\ndatasets:\n- card-transactions-2026\ntags:\n- fraud\npareto:\n  cost_per_1k: 999\n---\n\n# fraud-lgbm\n\n## Intended use\n\nScoring card payments.\n";

    #[test]
    fn a_card_reads_back_what_was_written_and_drops_typed_cost() {
        let (metadata, body) = parse(CARD).expect("card");
        assert_eq!(metadata["license"], "apache-2.0");
        assert_eq!(metadata["datasets"], json!(["card-transactions-2026"]));
        assert!(
            !metadata.contains_key(COST_KEY),
            "cost is computed, never imported"
        );
        assert!(body.starts_with("# fraud-lgbm"));
        let cost = json!({"cost_per_1k": {"value": "0.0042", "currency": "USD"}});
        let written = write(&metadata, &cost, &body);
        assert!(written.starts_with("---\n"));
        assert!(written.contains("pareto:\n  cost_per_1k:\n"), "{written}");
        assert!(written.contains("    value: '0.0042'"), "{written}");
        let (again, body_again) = parse(&written).expect("round trip");
        assert_eq!((again, body_again), (metadata, body));
    }

    #[test]
    fn a_malformed_front_matter_is_refused_with_its_line() {
        let bad_yaml = "---\nlicense: mit\ntags: [fraud\n---\nbody";
        let error = parse(bad_yaml).expect_err("bad yaml");
        assert!(
            error
                .message
                .starts_with("the front matter is not valid YAML"),
            "{error}"
        );
        assert!((3..=4).contains(&error.line), "{error:?}");

        let wrong_shape = "---\nlicense: mit\ndatasets:\n  name: x\n---\n";
        assert_eq!(
            parse(wrong_shape).expect_err("shape"),
            ReadmeError {
                line: 3,
                message: "`datasets` must be a text value or a list of them".into()
            }
        );
        let unclosed = "---\nlicense: mit\n# Card";
        assert_eq!(parse(unclosed).expect_err("unclosed").line, 1);
        let list = "---\n- a\n- b\n---\n";
        assert!(parse(list).expect_err("list").message.contains("mapping"));
    }

    #[test]
    fn a_card_without_front_matter_is_all_body() {
        let (metadata, body) = parse("# Just text\n").expect("plain");
        assert!(metadata.is_empty());
        assert_eq!(body, "# Just text");
    }

    #[test]
    fn rendering_removes_anything_that_could_run() {
        let html = render(
            "# Card\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        );
        assert!(html.contains("<h1>Card</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn a_diff_marks_added_and_removed_lines() {
        let lines = diff("a\nb\nc\n", "a\nc\nd\n");
        let marks: Vec<(DiffLineKind, &str)> =
            lines.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(
            marks,
            [
                (DiffLineKind::Same, "a"),
                (DiffLineKind::Removed, "b"),
                (DiffLineKind::Same, "c"),
                (DiffLineKind::Added, "d"),
            ]
        );
        let long: String = (1..=20).map(|n| format!("{n}\n")).collect();
        let changed = long.replace("10\n", "ten\n");
        let marks: Vec<(DiffLineKind, String)> = diff(&long, &changed)
            .into_iter()
            .map(|l| (l.kind, l.text))
            .collect();
        assert_eq!(
            marks.first(),
            Some(&(DiffLineKind::Skipped, "… 7 unchanged lines".into()))
        );
        assert_eq!(marks.len(), 1 + 2 + 2 + 2 + 1);
        assert_eq!(
            marks.last(),
            Some(&(DiffLineKind::Skipped, "… 8 unchanged lines".into()))
        );
    }
}
