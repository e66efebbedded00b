//! Allocation rule patterns: exact text, or `*` (any run of characters) and `?` (one character).

/// The pattern for SQL `LIKE` (with `\` as its escape character): `*` and `?` become `%` and `_`,
/// and `%`, `_` and `\` written in the pattern match themselves.
pub fn glob_to_like(pattern: &str) -> String {
    let mut like = String::with_capacity(pattern.len() + 4);
    for c in pattern.chars() {
        match c {
            '*' => like.push('%'),
            '?' => like.push('_'),
            '%' | '_' | '\\' => {
                like.push('\\');
                like.push(c);
            }
            other => like.push(other),
        }
    }
    like
}

/// Whether `text` matches the pattern, as SQL `LIKE` on [`glob_to_like`] decides it.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Positions in the pattern and the text, and where the last `*` may retry.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some('?') => {
                p += 1;
                t += 1;
            }
            Some(&c) if c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_become_like_patterns_with_literals_escaped() {
        assert_eq!(glob_to_like("search-*"), "search-%");
        assert_eq!(glob_to_like("gpu-node-0?"), "gpu-node-0_");
        assert_eq!(glob_to_like("100%_off\\"), "100\\%\\_off\\\\");
    }

    #[test]
    fn globs_match_like_people_expect() {
        assert!(glob_matches("search-*", "search-bert-v2"));
        assert!(glob_matches("*bert*", "search-bert-v2"));
        assert!(glob_matches("gpu-node-0?", "gpu-node-05"));
        assert!(!glob_matches("gpu-node-0?", "gpu-node-10"));
        assert!(glob_matches("exact", "exact"));
        assert!(!glob_matches("exact", "exactly"));
        assert!(glob_matches("a*b*c", "aXXbYYc"));
        assert!(!glob_matches("a*b*c", "aXXbYY"));
        assert!(glob_matches("*", ""));
    }
}
