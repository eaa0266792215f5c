//! Limits on what a run reads from files, checked before any parser sees the bytes: a size cap
//! read without trusting the file (`/dev/zero` included), and a nesting cap found in one pass.
//! A YAML parser takes time quadratic in the nesting depth; rejecting deep files up front keeps
//! every rejection linear.

use std::io::Read;
use std::path::Path;

/// Largest scenario file.
pub(crate) const MAX_SCENARIO_BYTES: u64 = 1 << 20;
/// Deepest nesting of collections in a scenario file; a real one needs about 6.
pub(crate) const MAX_DEPTH: usize = 64;
/// Largest request body read from a file (`--body @file`, a scenario's `@file`).
pub(crate) const MAX_BODY_BYTES: u64 = 16 << 20;
/// Most routes: URL arguments or scenario routes (the weighted schedule is built up front).
pub(crate) const MAX_ROUTES: usize = 100;

/// A file's content if it has at most `limit` bytes, `Ok(None)` if it has more. Reads at most
/// `limit + 1` bytes, so a huge file or a device costs no more than a small file.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// The 1-based line where YAML nesting first exceeds `max`, if it does. Counts indentation
/// levels, `- `/`? ` entries opened on one line, and flow `[`/`{` (outside quoted scalars). It may
/// overestimate, never underestimate, and looks at each byte once.
pub(crate) fn too_deep(text: &str, max: usize) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let (mut flow, mut quote, mut line) = (0usize, None::<u8>, 1usize);
    for raw in text.split('\n') {
        let bytes = raw.as_bytes();
        let mut i = 0;
        let mut entries = 0;
        if quote.is_none() && flow == 0 {
            let indent = bytes.iter().take_while(|b| **b == b' ').count();
            let content = bytes.get(indent).is_some_and(|b| !matches!(b, b'#' | b'\r'));
            if content {
                while indents.last().is_some_and(|top| *top > indent) {
                    indents.pop();
                }
                if indents.last() != Some(&indent) {
                    indents.push(indent);
                }
            }
            i = indent;
            while matches!(bytes.get(i), Some(b'-' | b'?')) && matches!(bytes.get(i + 1), Some(b' ') | None) {
                entries += 1;
                i += 2;
            }
        }
        let mut token_start = true;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(q) if b == q => {
                    // '' is an escaped quote inside single quotes.
                    if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
                Some(b'"') if b == b'\\' => i += 1,
                Some(_) => {}
                None => match b {
                    b'"' | b'\'' if token_start => quote = Some(b),
                    b'[' | b'{' if token_start || flow > 0 => flow += 1,
                    b']' | b'}' if flow > 0 => flow -= 1,
                    b'#' if token_start || bytes.get(i.wrapping_sub(1)) == Some(&b' ') => break,
                    _ => {}
                },
            }
            // A quote or bracket opens something only where a value starts: at the start of the
            // line, after an indicator (`:`, `-`, `?`, `,`, `[`, `{`) and spaces; not inside `don't [x`.
            if b != b' ' {
                token_start = quote.is_none() && matches!(b, b':' | b'-' | b'?' | b',' | b'[' | b'{');
            }
            i += 1;
            if indents.len() + entries + flow > max {
                return Some(line);
            }
        }
        if indents.len() + entries + flow > max {
            return Some(line);
        }
        line += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_files_pass() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/bookinfo.yaml")).unwrap();
        assert_eq!(too_deep(&text, 8), None);
        let json =
            r#"{"routes": [{"name": "a", "url": "http://a/", "classify": [{"name": "x", "regex": "v[0-9]{1,2}["}]}]}"#;
        assert_eq!(too_deep(json, 6), None);
        assert_eq!(too_deep("a: don't [stop\nb: 'it''s [' # [[[\n", 2), None);
    }

    #[test]
    fn deep_files_are_rejected_in_linear_time() {
        let started = std::time::Instant::now();
        for text in ["[".repeat(100_000), "- ".repeat(100_000) + "x", "{a: ".repeat(100_000)] {
            assert_eq!(too_deep(&text, MAX_DEPTH), Some(1));
        }
        let indented: String = (0..100).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
        assert_eq!(too_deep(&indented, MAX_DEPTH), Some(MAX_DEPTH + 1));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
