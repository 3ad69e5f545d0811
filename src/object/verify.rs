//! Applying a plan to an object's text, and checking that the edited text means exactly
//! what the plan says before it is accepted.

use super::read::{Parsed, parse_object};
use crate::convert::{self, Plan};
use crate::edit;
use crate::source::is_json;
use crate::yaml::matches::{Verdict, matches};
use crate::yaml::tree::Node;
use serde_json::Value;

/// Whether every edited object is read back and compared with the plan before it is
/// accepted. Always in tests (debug builds) and when `KUEUELEULEU_VERIFY=1`; release builds
/// trust the editor, which the fuzz tests exercise with the check on, since reading the output
/// again would double the cost of every converted object.
pub(super) fn verifying() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| match std::env::var("KUEUELEULEU_VERIFY").as_deref() {
        Ok("1" | "true") => true,
        Ok("0" | "false") => false,
        _ => cfg!(debug_assertions),
    })
}

/// Edits the object's text and, when [`verifying`], checks the result means exactly what the
/// plan says.
pub(super) fn edit_text(
    parsed: &Parsed<'_>,
    path: &[&str],
    spec_node: &Node,
    spec: &Value,
    plan: &Plan,
    json: bool,
) -> Result<(String, Vec<edit::Reinterpreted>), String> {
    let (column, first_line) = (parsed.column, parsed.first_line);
    let object_text = &parsed.text[parsed.range.clone()];
    let check = verifying();
    let expected = || -> Result<Value, String> {
        let mut expected = parsed.value.clone();
        let target = path
            .iter()
            .try_fold(&mut expected, |v, key| v.get_mut(*key))
            .ok_or("internal: pod spec vanished")?;
        *target = convert::apply_json(spec, plan);
        Ok(expected)
    };
    // JSON as a JSON printer lays it out (kubectl's) is printed again the same way; other JSON
    // is edited in place like YAML (every new piece written as JSON), so a hand-laid-out
    // object keeps its layout.
    if json && json_text(&parsed.value, object_text, column) == object_text {
        return Ok((json_text(&expected()?, object_text, column), Vec::new()));
    }
    let (new_text, notes) = match edit::apply(
        &parsed.text,
        parsed.range.clone(),
        spec_node,
        spec,
        plan,
        json,
    ) {
        Ok(done) => done,
        Err(_) if json => return Ok((json_text(&expected()?, object_text, column), Vec::new())),
        Err(e) => return Err(e.to_string()),
    };
    if json && !is_json(&new_text) {
        return Ok((json_text(&expected()?, object_text, column), Vec::new()));
    }
    if std::env::var_os("KUEUELEULEU_DEBUG_EDIT").is_some() {
        eprintln!("--- edited object ---\n{new_text}\n---");
    }
    if !check {
        return Ok((new_text, notes));
    }
    let expected = expected()?;
    // Checked against the parser's events; the full reader only when anchors, aliases, merge
    // keys or tags elsewhere in the object need it.
    // Ended by a line break, as in the input (a kept block scalar at its end counts it).
    let edited = format!("{}{new_text}\n", " ".repeat(column));
    match matches(&edited, &expected) {
        Ok(Verdict::Same) => return Ok((new_text, notes)),
        Ok(Verdict::Different) => return Err(mismatch(&expected, &edited)),
        Ok(Verdict::Undecided) => {}
        Err(e) => {
            return Err(format!(
                "internal: the edited object does not read back ({e}); the object was left unchanged, please report this input"
            ));
        }
    }
    let reread = parse_object(&new_text, column, first_line, &[], 0).map_err(|e| {
        format!("internal: the edited object does not read back ({e}); the object was left unchanged, please report this input")
    })?;
    if reread.value != expected {
        return Err(mismatch(&expected, &edited));
    }
    Ok((new_text, notes))
}

fn mismatch(expected: &Value, edited: &str) -> String {
    if std::env::var_os("KUEUELEULEU_DEBUG_EDIT").is_some() {
        let reread = crate::yaml::tree::parse(edited)
            .ok()
            .and_then(|mut d| d.pop().flatten())
            .map(|root| crate::yaml::value::Resolver::new(&root).value(&root));
        eprintln!("expected: {expected}\nreread:   {reread:?}");
    }
    "internal: the edited YAML does not match the planned conversion; the object was left unchanged, please report this input".into()
}

/// A converted object of JSON input, as JSON in the indentation the input used (kubectl's
/// four spaces when it cannot be told), its lines shifted to where the object stood.
/// `object` is the object's text as it came in (its first line without what precedes it).
pub(super) fn json_text(value: &Value, object: &str, column: usize) -> String {
    use serde::Serialize;
    if !object.trim_end().contains('\n') {
        return value.to_string();
    }
    let unit = object
        .lines()
        .nth(1)
        .map(|l| l.len() - l.trim_start().len())
        .filter(|&n| n > column)
        .map_or(4, |n| n - column);
    let indent = " ".repeat(unit);
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes()),
    );
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    let mut text = String::from_utf8(out).unwrap_or_default();
    // Go's encoder (kubectl's) writes &, < and > as \u0026, \u003c and \u003e; keep that
    // spelling unless the input wrote them raw. They can only occur inside strings in JSON.
    if !object.contains(['&', '<', '>']) {
        text = text
            .replace('&', "\\u0026")
            .replace('<', "\\u003c")
            .replace('>', "\\u003e");
    }
    let pad = " ".repeat(column);
    let mut lines = text.split('\n');
    let mut result = lines.next().unwrap_or_default().to_string();
    for line in lines {
        result.push('\n');
        result.push_str(&pad);
        result.push_str(line);
    }
    result
}
