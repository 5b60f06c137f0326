//! rustc's errors about an evaluator program, from `--error-format=json`:
//! the message with its notes, and the byte range in `main.rs` it points at
//! (following macro expansions back to the call in `main.rs`).

use serde_json::Value;

use super::harness::SOURCE_FILE;

/// One error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RustcError {
    /// The message, its primary label and its notes and helps.
    pub message: String,
    /// `(byte_start, byte_end)` in the program, if it points into it.
    pub span: Option<(usize, usize)>,
}

/// The errors in rustc's JSON output (warnings and the closing summary are
/// left out).
pub(super) fn errors(stderr: &[u8]) -> Vec<RustcError> {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|d| d["$message_type"] == "diagnostic")
        .filter(|d| d["level"].as_str().is_some_and(|l| l.starts_with("error")))
        .filter(|d| {
            let message = d["message"].as_str().unwrap_or("");
            !message.starts_with("aborting due to")
        })
        .map(|d| RustcError {
            message: message(&d),
            span: primary_span(&d),
        })
        .collect()
}

fn message(d: &Value) -> String {
    let mut text = d["message"].as_str().unwrap_or("rustc failed").to_owned();
    let label = d["spans"]
        .as_array()
        .and_then(|spans| spans.iter().find(|s| s["is_primary"] == true))
        .and_then(|s| s["label"].as_str())
        .filter(|l| !l.is_empty());
    if let Some(label) = label.filter(|l| adds_to(&text, l)) {
        text.push_str(": ");
        text.push_str(label);
    }
    for child in d["children"].as_array().into_iter().flatten() {
        let level = child["level"].as_str().unwrap_or("note");
        let message = child["message"].as_str().unwrap_or("");
        if message.is_empty() || !matches!(level, "note" | "help") {
            continue;
        }
        let suggestions: Vec<String> = child["spans"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["suggested_replacement"].as_str())
            .filter(|r| !r.is_empty() && !r.contains('\n'))
            .map(|r| format!("`{r}`"))
            .collect();
        text.push_str(&format!("\n= {level}: {message}"));
        // A suggestion in one piece reads as code; one in several pieces
        // (wrapping an expression) only makes sense on the source.
        if suggestions.len() == 1 {
            text.push_str(": ");
            text.push_str(&suggestions.join(", "));
        }
    }
    text
}

/// Whether `label` says something `message` does not: labels such as "not
/// found in this scope" or "this produces `i64`" only repeat it.
fn adds_to(message: &str, label: &str) -> bool {
    if label == "not found in this scope" {
        return false;
    }
    let quoted: Vec<&str> = label.split('`').skip(1).step_by(2).collect();
    quoted.is_empty() || !quoted.iter().all(|q| message.contains(&format!("`{q}`")))
}

fn primary_span(d: &Value) -> Option<(usize, usize)> {
    let spans = d["spans"].as_array()?;
    let primary = spans
        .iter()
        .find(|s| s["is_primary"] == true)
        .or(spans.first())?;
    in_program(primary)
}

/// The span, or the macro call it was expanded from, in the program.
fn in_program(span: &Value) -> Option<(usize, usize)> {
    let file = span["file_name"].as_str().unwrap_or("");
    if file.ends_with(SOURCE_FILE) {
        let start = span["byte_start"].as_u64()? as usize;
        let end = span["byte_end"].as_u64()? as usize;
        return Some((start, end.max(start)));
    }
    in_program(&span["expansion"]["span"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_repeat_the_message_are_left_out() {
        assert!(!adds_to(
            "cannot find value `y` in this scope",
            "not found in this scope"
        ));
        assert!(!adds_to("a `i64` cannot be baked", "this produces `i64`"));
        assert!(adds_to("mismatched types", "expected `u16`, found `u32`"));
        assert!(adds_to(
            "mismatched types",
            "expected an array with a size of 4"
        ));
    }

    #[test]
    fn reads_errors_with_their_spans_and_notes() {
        let stderr = concat!(
            r#"{"$message_type":"diagnostic","message":"cannot find value `y` in this scope","code":{"code":"E0425"},"level":"error","spans":[{"file_name":"/tmp/x/main.rs","byte_start":120,"byte_end":121,"is_primary":true,"label":"not found in this scope","expansion":null}],"children":[{"message":"a local variable with a similar name exists: `x`","level":"help","spans":[],"children":[]}],"rendered":"..."}"#,
            "\n",
            r#"{"$message_type":"diagnostic","message":"unused variable","level":"warning","spans":[],"children":[]}"#,
            "\n",
            r#"{"$message_type":"diagnostic","message":"mismatched types","level":"error","spans":[{"file_name":"/rustc/library/alloc/src/macros.rs","byte_start":5,"byte_end":9,"is_primary":true,"label":null,"expansion":{"span":{"file_name":"main.rs","byte_start":300,"byte_end":310,"is_primary":false,"expansion":null}}}],"children":[]}"#,
            "\n",
            r#"{"$message_type":"diagnostic","message":"aborting due to 2 previous errors","level":"error","spans":[],"children":[]}"#,
            "\n",
        );
        let errors = errors(stderr.as_bytes());
        assert_eq!(
            errors,
            [
                RustcError {
                    message: "cannot find value `y` in this scope\n= help: a local variable with a similar name exists: `x`".into(),
                    span: Some((120, 121)),
                },
                RustcError {
                    message: "mismatched types".into(),
                    span: Some((300, 310)),
                },
            ]
        );
    }
}
