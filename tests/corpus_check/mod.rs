//! What the corpus test checks in one converted file, written independently of the
//! converter's own reader where that is cheap: document chunks cut at `---` lines, values read
//! by `serde_yaml` (merge keys applied), plain scalars found with saphyr's event parser.

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::Value;

/// The kinds `--all` selects.
pub const WORKLOADS: &[&str] = &["Pod", "Job", "CronJob"];

/// The documents of a stream as text, each starting at its `---` line (the first one at the
/// start of the file), so that joining them gives the stream back.
pub fn chunks(text: &str) -> Vec<&str> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if at > 0 && (bare == "---" || bare.starts_with("--- ")) {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(text.len());
    starts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

/// One document's meaning as JSON, custom tags dropped and merge keys applied;
/// `None` when `serde_yaml` refuses it (custom tags it cannot read, say).
pub fn value(text: &str) -> Option<Value> {
    let text = text.trim_start_matches('\u{feff}');
    let mut v: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    v.apply_merge().ok()?;
    serde_json::to_value(untagged(v)).ok()
}

fn untagged(v: serde_yaml::Value) -> serde_yaml::Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Tagged(t) => untagged(t.value),
        Y::Sequence(s) => Y::Sequence(s.into_iter().map(untagged).collect()),
        Y::Mapping(m) => Y::Mapping(m.into_iter().map(|(k, v)| (k, untagged(v))).collect()),
        other => other,
    }
}

pub fn kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// The objects of one document: a `List`'s or `ResourceList`'s items, or the document itself.
pub fn objects(v: &Value) -> Vec<Value> {
    match kind(v) {
        "List" | "ResourceList" => v["items"].as_array().cloned().unwrap_or_default(),
        _ if v.is_null() => Vec::new(),
        _ => vec![v.clone()],
    }
}

/// Where a workload keeps its pod spec.
pub fn pod_spec_path(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pod" => &["spec"],
        "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &[],
    }
}

fn pod_spec_mut(object: &mut Value) -> Option<&mut Value> {
    let path = pod_spec_path(kind(object));
    let mut at = object;
    for key in path {
        at = at.get_mut(*key)?;
    }
    Some(at)
}

fn ours(item: &Value) -> bool {
    item.get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| n.starts_with("kueueleuleu-"))
}

/// What the program a container runs is: its command (or the configured one for its image)
/// followed by its args.
fn program(container: &Value, commands: &Value) -> Vec<Value> {
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let mut command = list(container.get("command"));
    if command.is_empty() {
        let image = container.get("image").and_then(Value::as_str).unwrap_or("");
        command = list(commands.get(image));
    }
    command.extend(list(container.get("args")));
    command
}

/// Compares a converted object with its input, field by field: apart from the fields the
/// conversion owns, nothing may differ, and each step must still run its own program (the
/// runner's arguments end with `--` and the original command and args). Returns what differs.
pub fn same_meaning(input: &Value, output: &Value, commands: &Value) -> Result<(), String> {
    let (mut a, mut b) = (input.clone(), output.clone());
    let (Some(sa), Some(sb)) = (pod_spec_mut(&mut a), pod_spec_mut(&mut b)) else {
        return if a == b {
            Ok(())
        } else {
            Err("an object that is not a workload changed".into())
        };
    };
    let steps_a = sa["containers"].as_array().cloned().unwrap_or_default();
    let steps_b = sb["containers"].as_array().cloned().unwrap_or_default();
    if steps_a.len() != steps_b.len() {
        return Err(format!("{} steps became {}", steps_a.len(), steps_b.len()));
    }
    for (i, (ca, cb)) in steps_a.iter().zip(&steps_b).enumerate() {
        let want = program(ca, commands);
        let args = cb["args"].as_array().cloned().unwrap_or_default();
        let got = match args.iter().position(|a| a == "--") {
            Some(dash) => args[dash + 1..].to_vec(),
            None => return Err(format!("step {i}: no `--` in the runner's args: {args:?}")),
        };
        if got != want {
            return Err(format!("step {i} runs {got:?} instead of {want:?}"));
        }
    }
    for spec in [&mut *sa, &mut *sb] {
        for c in spec["containers"].as_array_mut().into_iter().flatten() {
            let Some(c) = c.as_object_mut() else { continue };
            c.remove("command");
            c.remove("args");
            if let Some(Value::Array(mounts)) = c.get_mut("volumeMounts") {
                mounts.retain(|m| !ours(m));
            }
            if c.get("volumeMounts")
                .is_some_and(|m| m == &Value::Array(vec![]))
            {
                c.remove("volumeMounts");
            }
        }
        let Some(spec) = spec.as_object_mut() else {
            continue;
        };
        for list in ["initContainers", "volumes"] {
            if let Some(Value::Array(items)) = spec.get_mut(list) {
                items.retain(|item| !ours(item));
                if items.is_empty() {
                    spec.remove(list);
                }
            }
        }
    }
    // An unset restartPolicy becomes `Never`; one that was set stays.
    if sa.get("restartPolicy").is_none()
        && sb.get("restartPolicy").and_then(Value::as_str) == Some("Never")
    {
        sb.as_object_mut().unwrap().remove("restartPolicy");
    }
    if a == b {
        Ok(())
    } else {
        Err(format!(
            "fields the conversion does not own changed:\n  before: {a}\n  after:  {b}"
        ))
    }
}

/// Plain scalars in `command`/`args` lists that a YAML 1.1 reader (kubectl, PyYAML) reads as
/// something other than the string a YAML 1.2 reader sees, with their line numbers.
pub fn yaml11_traps(text: &str) -> Vec<String> {
    enum Frame {
        Map { key: Option<String>, at_key: bool },
        Seq,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut found = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next() {
        let in_step_list = stack.len() >= 2
            && matches!(stack.last(), Some(Frame::Seq))
            && matches!(&stack[stack.len() - 2],
                Frame::Map { key: Some(k), .. } if k == "command" || k == "args");
        match event {
            Event::Scalar(s, style, _, tag) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { at_key: true, .. }));
                if in_step_list
                    && !is_key
                    && style == ScalarStyle::Plain
                    && tag.is_none()
                    && let Some(reading) = kueueleuleu::yaml::value::yaml11_reading(&s)
                {
                    found.push(format!(
                        "line {}: `{s}` is {reading} in YAML 1.1",
                        span.start.line()
                    ));
                }
                advance(&mut stack, Some(s.to_string()));
            }
            Event::Alias(_) => advance(&mut stack, None),
            Event::SequenceStart(..) => stack.push(Frame::Seq),
            Event::MappingStart(..) => stack.push(Frame::Map {
                key: None,
                at_key: true,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                advance(&mut stack, None);
            }
            Event::DocumentStart(_) => stack.clear(),
            _ => {}
        }
    }
    return found;

    fn advance(stack: &mut [Frame], scalar: Option<String>) {
        if let Some(Frame::Map { key, at_key }) = stack.last_mut() {
            if *at_key {
                *key = scalar;
            }
            *at_key = !*at_key;
        }
    }
}
