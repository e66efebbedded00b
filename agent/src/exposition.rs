//! The Prometheus text exposition format, as inference servers and the DCGM exporter write it
//! (and OpenMetrics text, whose sample lines are the same): `name{label="value",...} value
//! [timestamp]`, with `# HELP`, `# TYPE` and other comments between.
//!
//! Written here because the pages this agent reads use what simpler parsers miss: metric names
//! with colons (vLLM's `vllm:prompt_tokens_total`), label values holding `}`, `,`, `=` or escaped
//! quotes, `+Inf`/`NaN` values, and OpenMetrics' `# EOF`.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// Every sample of a page, in page order; or the first line that is not the format, by number.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let sample =
            sample(line).map_err(|reason| format!("line {}: {reason}: `{line}`", index + 1))?;
        samples.push(sample);
    }
    Ok(samples)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .char_indices()
        .find(|(i, c)| {
            !(if *i == 0 {
                is_name_start(*c)
            } else {
                is_name_char(*c)
            })
        })
        .map_or(line.len(), |(i, _)| i);
    if name_end == 0 {
        return Err("expected a metric name".into());
    }
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.trim_start().strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or("expected a value")?;
    let value = number(value).ok_or_else(|| format!("`{value}` is not a number"))?;
    // A timestamp may follow; the agent stamps its own readings.
    Ok(Sample {
        name,
        labels,
        value,
    })
}

/// Reads `label="value", ...}` and returns what follows the closing brace.
fn parse_labels<'a>(
    mut rest: &'a str,
    labels: &mut BTreeMap<String, String>,
) -> Result<&'a str, String> {
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or("a label is not closed")?;
        let label = &rest[..name_end];
        if label.is_empty() {
            return Err("expected a label name".into());
        }
        rest = rest[name_end..].trim_start();
        rest = rest
            .strip_prefix('=')
            .ok_or_else(|| format!("expected = after label {label}"))?
            .trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of label {label} is not quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("the value of label {label} is not closed")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("the value of label {label} is not closed")),
            }
        };
        labels.insert(label.to_owned(), value);
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("expected , or } after a label".into());
        }
    }
}

/// A sample value: a decimal or exponent number, `+Inf`, `-Inf` or `NaN`.
pub fn number(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_colons_and_awkward_labels_parse() {
        let page = r#"# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.2345e+06
weird{path="/a,b}=c",quote="say \"hi\"",nl="a\nb",} 3 1700000000000
bare 4
spaced { a = "1" , b="2" }  +Inf
# EOF
"#;
        let samples = parse(page).expect("parses");
        assert_eq!(samples.len(), 4);
        assert_eq!(samples[0].name, "vllm:prompt_tokens_total");
        assert_eq!(
            samples[0].label("model_name"),
            Some("meta-llama/Llama-3.1-8B-Instruct")
        );
        assert_eq!(samples[0].value, 1_234_500.0);
        assert_eq!(samples[1].label("path"), Some("/a,b}=c"));
        assert_eq!(samples[1].label("quote"), Some("say \"hi\""));
        assert_eq!(samples[1].label("nl"), Some("a\nb"));
        assert_eq!(samples[1].value, 3.0);
        assert!(samples[2].labels.is_empty());
        assert_eq!(samples[3].label("b"), Some("2"));
        assert_eq!(samples[3].value, f64::INFINITY);
    }

    #[test]
    fn a_line_that_is_not_the_format_is_named() {
        for (page, reason) in [
            ("ok 1\nbroken{a=\"1\" 2", "line 2: expected , or }"),
            ("m{a=1} 2", "not quoted"),
            ("m lots", "`lots` is not a number"),
            ("{a=\"1\"} 2", "expected a metric name"),
            ("m{a=\"1", "not closed"),
        ] {
            let error = parse(page).expect_err(page);
            assert!(error.contains(reason), "{page}: {error}");
        }
        assert!(number("NaN").is_some_and(f64::is_nan));
        assert_eq!(number("-Inf"), Some(f64::NEG_INFINITY));
    }
}
