//! Applying a plan to an object's text, and checking that the edited text means exactly
//! what the plan says before it is accepted.

use super::read::{Parsed, parse_object};
use crate::convert::{self, Plan};
use crate::edit;
use crate::yaml::matches::{Verdict, matches};
use crate::yaml::tree::Node;
use serde_json::Value;

/// Edits the object's text and checks the result means exactly what the plan says.
pub(super) fn edit_text(
    parsed: &Parsed,
    path: &[&str],
    spec_node: &Node,
    spec: &Value,
    plan: &Plan,
    json: bool,
) -> Result<(String, Vec<edit::Reinterpreted>), String> {
    let (column, first_line) = (parsed.column, parsed.first_line);
    let mut expected = parsed.value.clone();
    let target = path
        .iter()
        .try_fold(&mut expected, |v, key| v.get_mut(*key))
        .ok_or("internal: pod spec vanished")?;
    *target = convert::apply_json(spec, plan);
    if json {
        return Ok((json_text(&expected, &parsed.text, column), Vec::new()));
    }
    let (edited, notes) =
        edit::apply(&parsed.text, spec_node, spec, plan).map_err(|e| e.to_string())?;
    let new_text = edited
        .strip_prefix(&" ".repeat(column))
        .ok_or("internal: the edit changed the object's first line")?
        .to_string();
    if std::env::var_os("KUEUELEULEU_DEBUG_EDIT").is_some() {
        eprintln!("--- edited object ---\n{edited}\n---");
    }
    // Checked against the parser's events; the full reader only when anchors, aliases, merge
    // keys or tags elsewhere in the object need it.
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
pub(super) fn json_text(value: &Value, padded: &str, column: usize) -> String {
    use serde::Serialize;
    if !padded.trim_end().contains('\n') {
        return value.to_string();
    }
    let unit = padded
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
    let text = String::from_utf8(out).unwrap_or_default();
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
