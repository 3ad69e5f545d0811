//! Writing `spec.commands` of a `kind: Sequential` config file in place: each entry is one
//! line `"IMAGE": {entrypoint: [...], cmd: [...]}` under a comment that says where it came
//! from; entries stay sorted by image; every other line of the file is kept as it was, and so
//! is every entry that is not rewritten (its text and its comments).

use std::collections::BTreeMap;

/// One entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Comment lines above it (without `# `).
    pub comments: Vec<String>,
    /// The image's ENTRYPOINT.
    pub entrypoint: Vec<String>,
    /// The image's CMD.
    pub cmd: Vec<String>,
}

/// A config file `resolve` cannot update without losing something.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct FileError {
    /// The config file.
    pub path: String,
    /// Why, and what to do.
    pub reason: String,
}

/// A chunk of an existing `commands` block: one entry, with the comments above it.
#[derive(Debug)]
pub struct Chunk {
    /// The entry's key, as YAML reads it.
    pub key: String,
    /// Its lines, verbatim (comments first).
    pub text: String,
}

/// An empty config file holding `entries`.
pub fn new_file(entries: &BTreeMap<String, Entry>) -> String {
    let mut out = format!(
        "apiVersion: {}\nkind: {}\nmetadata:\n  name: sequential\nspec:\n  commands:\n",
        crate::config::API_VERSION,
        crate::config::KIND
    );
    for (key, entry) in entries {
        out.push_str(&render(key, entry, "    "));
    }
    out
}

/// One entry's lines at indentation `indent`. Every string is JSON-quoted: valid YAML, and
/// never read as a boolean or number by a YAML 1.1 reader.
pub fn render(key: &str, entry: &Entry, indent: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let list = |v: &[String]| v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
    let mut out = String::new();
    for c in &entry.comments {
        out.push_str(&format!("{indent}# {c}\n"));
    }
    out.push_str(&format!(
        "{indent}{}: {{entrypoint: [{}], cmd: [{}]}}\n",
        q(key),
        list(&entry.entrypoint),
        list(&entry.cmd)
    ));
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Where `spec` and `commands` are in an existing file.
struct Layout<'a> {
    lines: Vec<&'a str>,
    /// Line index of `spec:`, if any.
    spec: Option<usize>,
    /// Indentation of spec's keys.
    child: usize,
    /// `commands:` line, and the end (exclusive) of its block.
    commands: Option<(usize, usize)>,
    /// End (exclusive) of spec's block, trailing comments excluded.
    spec_end: usize,
}

fn layout<'a>(path: &str, text: &'a str) -> Result<Layout<'a>, FileError> {
    let fail = |reason: String| FileError {
        path: path.into(),
        reason,
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.iter().skip(1).any(|l| l.trim_end() == "---") {
        return Err(fail(
            "holds several YAML documents; keep the Sequential config alone in its file".into(),
        ));
    }
    let Some(spec) = lines.iter().position(|l| l.starts_with("spec:")) else {
        return Ok(Layout {
            spec_end: lines.len(),
            lines,
            spec: None,
            child: 2,
            commands: None,
        });
    };
    let rest = lines[spec]["spec:".len()..].trim();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err(fail("`spec` is written in flow style; write it as a block (`spec:` then indented keys) so resolve can update `commands` without rewriting it".into()));
    }
    let end_of = |from: usize, parent: usize| {
        let mut end = from;
        for (i, l) in lines.iter().enumerate().skip(from) {
            if is_blank_or_comment(l) {
                continue;
            }
            if indent_of(l) <= parent {
                break;
            }
            end = i + 1;
        }
        end
    };
    let spec_end = end_of(spec + 1, 0);
    let child = lines[spec + 1..spec_end]
        .iter()
        .find(|l| !is_blank_or_comment(l))
        .map_or(2, |l| indent_of(l));
    let commands = (spec + 1..spec_end)
        .find(|&i| indent_of(lines[i]) == child && lines[i][child..].starts_with("commands:"));
    let commands = match commands {
        None => None,
        Some(i) => {
            let value = lines[i][child + "commands:".len()..].trim();
            let end = if value.is_empty() || value.starts_with('#') {
                end_of(i + 1, child).max(i + 1)
            } else if value.starts_with('{') && value.ends_with('}') || value.starts_with("{}") {
                i + 1
            } else {
                return Err(fail("`spec.commands` spans several lines in flow style; write it as a block mapping so resolve can update it".into()));
            };
            Some((i, end))
        }
    };
    Ok(Layout {
        lines,
        spec: Some(spec),
        child,
        commands,
        spec_end,
    })
}

/// The entries of an existing block (`lines` after `commands:`), verbatim, by key.
fn chunks(lines: &[&str]) -> Result<(Vec<Chunk>, String), String> {
    let Some(indent) = lines
        .iter()
        .find(|l| !is_blank_or_comment(l))
        .map(|l| indent_of(l))
    else {
        return Ok((Vec::new(), lines.concat()));
    };
    let mut out: Vec<Chunk> = Vec::new();
    let mut pending = String::new();
    for line in lines {
        if is_blank_or_comment(line) || indent_of(line) > indent {
            if is_blank_or_comment(line) || out.is_empty() {
                pending.push_str(line);
            } else {
                if let Some(c) = out.last_mut() {
                    c.text.push_str(&std::mem::take(&mut pending));
                    c.text.push_str(line);
                }
            }
            continue;
        }
        let key_text = line.trim();
        let docs = crate::yaml::tree::parse(key_text).map_err(|e| e.message.to_string())?;
        let key = docs
            .into_iter()
            .flatten()
            .next()
            .and_then(|root| match &root.body {
                crate::yaml::tree::Body::Map { entries, .. } => entries
                    .first()
                    .and_then(|(k, _)| k.scalar().map(str::to_string)),
                _ => None,
            })
            .ok_or_else(|| format!("cannot read the key of the line {:?}", line.trim_end()))?;
        out.push(Chunk {
            key,
            text: std::mem::take(&mut pending) + line,
        });
    }
    Ok((out, pending))
}

/// `text` with `spec.commands` holding the existing entries (verbatim) except those in
/// `entries`, which are written anew; sorted by image.
pub fn update(
    path: &str,
    text: &str,
    entries: &BTreeMap<String, Entry>,
) -> Result<String, FileError> {
    let l = layout(path, text)?;
    let fail = |reason: String| FileError {
        path: path.into(),
        reason,
    };
    let ind = " ".repeat(l.child);
    let inner = " ".repeat(l.child * 2);
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    let mut trailing = String::new();
    if let Some((at, end)) = l.commands {
        let (old, rest) = chunks(&l.lines[at + 1..end]).map_err(|e| {
            fail(format!(
                "spec.commands: {e}; write each entry as `\"IMAGE\": ...` on its own line"
            ))
        })?;
        for c in old {
            all.insert(c.key, c.text);
        }
        trailing = rest;
    }
    for (key, entry) in entries {
        all.insert(key.clone(), render(key, entry, &inner));
    }
    let mut block = format!("{ind}commands:\n");
    for chunk in all.values() {
        block.push_str(chunk);
        if !block.ends_with('\n') {
            block.push('\n');
        }
    }
    block.push_str(&trailing);
    let mut out = String::with_capacity(text.len() + block.len());
    match (l.spec, l.commands) {
        (_, Some((at, end))) => {
            out.extend(l.lines[..at].iter().copied());
            out.push_str(&block);
            out.extend(l.lines[end..].iter().copied());
        }
        (Some(_), None) => {
            out.extend(l.lines[..l.spec_end].iter().copied());
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&block);
            out.extend(l.lines[l.spec_end..].iter().copied());
        }
        (None, None) => {
            out.push_str(text);
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("spec:\n");
            out.push_str(&block);
        }
    }
    Ok(out)
}

/// The comment lines of the existing entries, by key (to read a pinned digest back).
pub fn existing_comments(path: &str, text: &str) -> Result<BTreeMap<String, String>, FileError> {
    let l = layout(path, text)?;
    let Some((at, end)) = l.commands else {
        return Ok(BTreeMap::new());
    };
    let (old, _) = chunks(&l.lines[at + 1..end]).map_err(|reason| FileError {
        path: path.into(),
        reason,
    })?;
    Ok(old.into_iter().map(|c| (c.key, c.text)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(e: &[&str], c: &[&str]) -> Entry {
        Entry {
            comments: vec!["from the registry".into()],
            entrypoint: e.iter().map(|s| s.to_string()).collect(),
            cmd: c.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn existing_entries_and_other_keys_are_kept_and_entries_sorted() {
        let text = "# my config\napiVersion: fn.kueueleuleu.io/v1alpha1\nkind: Sequential\nmetadata: {name: s}\nspec:\n    image: x:1  # runner\n    commands:\n        # by hand\n        \"zz:1\":\n          - /bin/zz\n        'aa:1': [a]\n    selectAll: true\n# end\n";
        let mut new = BTreeMap::new();
        new.insert("mm:1".to_string(), entry(&["/m"], &["on"]));
        let out = update("c.yaml", text, &new).unwrap();
        assert_eq!(
            out,
            "# my config\napiVersion: fn.kueueleuleu.io/v1alpha1\nkind: Sequential\nmetadata: {name: s}\nspec:\n    image: x:1  # runner\n    commands:\n        'aa:1': [a]\n        # from the registry\n        \"mm:1\": {entrypoint: [\"/m\"], cmd: [\"on\"]}\n        # by hand\n        \"zz:1\":\n          - /bin/zz\n    selectAll: true\n# end\n"
        );
        // Updating again with the same entry changes nothing.
        assert_eq!(update("c.yaml", &out, &new).unwrap(), out);
    }

    #[test]
    fn commands_are_added_to_a_spec_or_a_file_without_one() {
        let mut new = BTreeMap::new();
        new.insert("a:1".to_string(), entry(&[], &["a"]));
        let out = update("c", "kind: Sequential\nspec:\n  image: x\n\n# tail\n", &new).unwrap();
        assert_eq!(
            out,
            "kind: Sequential\nspec:\n  image: x\n  commands:\n    # from the registry\n    \"a:1\": {entrypoint: [], cmd: [\"a\"]}\n\n# tail\n"
        );
        let out = update("c", "kind: Sequential\nspec:\n  commands: {}\n", &new).unwrap();
        assert!(out.ends_with("  commands:\n    # from the registry\n    \"a:1\": {entrypoint: [], cmd: [\"a\"]}\n"), "{out}");
        let out = update("c", "kind: Sequential", &new).unwrap();
        assert!(
            out.starts_with("kind: Sequential\nspec:\n  commands:\n"),
            "{out}"
        );
        assert!(
            new_file(&new)
                .contains("kind: Sequential\nmetadata:\n  name: sequential\nspec:\n  commands:\n")
        );
    }

    #[test]
    fn flow_specs_are_refused_with_the_fix() {
        let e = update(
            "c",
            "kind: Sequential\nspec: {image: x}\n",
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("write it as a block"), "{e}");
    }
}
