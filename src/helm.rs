//! Failure reports for Helm 4 post-renderer plugins.
//!
//! Helm 4 runs a `postrenderer/v1` plugin with its stderr captured into a buffer that it
//! never shows, and on a non-zero exit reports only `plugin "NAME" exited with error`: the
//! reason is lost. What Helm does show is its YAML parser's complaint about the plugin's
//! stdout, and that complaint quotes the offending document. So in plugin mode a failed run
//! writes its messages as one YAML string document and exits 0: Helm refuses a document
//! that is not an object, failing the install with the messages in its error text.

/// The document written to stdout instead of the manifests when the run failed: a literal
/// block scalar (explicit indentation, so a message starting with spaces stays valid YAML).
pub fn failure_document(messages: &[String]) -> String {
    let mut out = String::from("--- |2-\n");
    let mut any = false;
    for message in messages {
        for line in message.lines() {
            any = true;
            // Characters YAML forbids in a block scalar would make the report unreadable.
            let line: String = line
                .chars()
                .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
                .collect();
            out.push_str("  ");
            out.push_str(&line);
            out.push('\n');
        }
    }
    if !any {
        out.push_str("  kueueleuleu: error (no message)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_as_the_messages() {
        let messages = vec![
            "kueueleuleu: error: Job a: spec: no: yes".to_string(),
            "  indented # not a comment".to_string(),
        ];
        let doc = failure_document(&messages);
        let back: String = serde_yaml::from_str(&doc).unwrap();
        assert_eq!(back, messages.join("\n"));
    }
}
