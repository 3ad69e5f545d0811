//! The whole run on one input: parse -> select -> convert each object -> emit. All-or-nothing:
//! if any object has an error, every object comes out exactly as it came in, so a failed run
//! never leaves half-converted manifests behind.

use crate::config::{ConfigError, Spec as Config};
use crate::convert::Severity;
use crate::object::{self, ANNOTATION, ObjectRef, Operation, Report, Reports};
use crate::source::{self, Input, InputError, Located};
use crate::spill::{Text, Texts};
use crate::yaml::{tree, value::Resolver};

mod early;
mod objects;
mod results_entry;

use objects::{Eager, Processed, process_all};
use results_entry::results_edits;
use serde_json::Value;

/// Settings from the command line, which win over the ResourceList's `functionConfig`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config`: a function config read from a file.
    pub config: Option<Value>,
    /// `--all`.
    pub select_all: bool,
    /// `--image`: replaces the config's `image`.
    pub image: Option<String>,
    /// `--install`: replaces the config's `install`.
    pub install: Option<crate::config::Install>,
    /// `--resources`: replaces the config's `resources`.
    pub resources: Option<crate::config::ResourcePolicy>,
}

/// A run that could not produce output at all: nothing must be written to stdout.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("functionConfig: {0}")]
    FunctionConfig(String),
}

/// What a run produced: the input and the edits to make to it. Written out piece by piece,
/// so that a large stream is never held twice in memory.
#[derive(Debug)]
pub struct Output<'a> {
    /// The input, byte order mark included.
    input: &'a str,
    /// Replacements in the input, in order and not overlapping.
    edits: Vec<Edit>,
    /// Where the replacement texts are kept (memory, then a temporary file).
    texts: Texts,
    /// Everything worth telling, in input order; errors first in a ResourceList.
    pub reports: Reports,
    /// Whether any error was reported (exit status 1).
    pub failed: bool,
    /// Whether the input was a ResourceList (results are inside `text`).
    pub resource_list: bool,
    /// Pods, Jobs and CronJobs seen, and how many of them were selected: a stream's caller
    /// sums these over its inputs to tell the user when nothing was selected.
    pub workloads: usize,
    /// See `workloads`.
    pub selected: usize,
}

impl Output<'_> {
    /// The whole output: always every object that came in.
    pub fn text(&self) -> String {
        let mut out = Vec::with_capacity(self.input.len());
        self.write_to(&mut out)
            .expect("writing to memory cannot fail");
        String::from_utf8(out).expect("edits of UTF-8 text are UTF-8")
    }

    /// Writes the output: unchanged text straight from the input, edited objects in between.
    pub fn write_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        self.write_from(0, w)
    }

    /// Writes the output without the input's byte order mark: what follows another input's
    /// output in one stream, where YAML allows no mark (and the next run would refuse it).
    pub fn write_unmarked_to(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let mark = if self.input.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        self.write_from(mark, w)
    }

    fn write_from(&self, mut at: usize, w: &mut impl std::io::Write) -> std::io::Result<()> {
        for (range, new_text) in &self.edits {
            // (An edit never starts inside the mark; were it to, nothing is written twice.)
            w.write_all(
                self.input
                    .as_bytes()
                    .get(at..range.start)
                    .unwrap_or_default(),
            )?;
            self.texts.write(new_text, w)?;
            at = range.end;
        }
        w.write_all(&self.input.as_bytes()[at..])
    }

    /// Whether the output ends a line (so the next document can follow directly).
    pub fn ends_with_newline(&self) -> bool {
        match self.edits.last() {
            Some((range, new_text)) if range.end == self.input.len() => {
                Texts::ends_with_newline(new_text)
            }
            _ => self.input.ends_with('\n'),
        }
    }
}

/// Runs `op` over the input bytes.
pub fn run<'a>(
    input: &'a [u8],
    op: Operation,
    overrides: &Overrides,
) -> Result<Output<'a>, RunError> {
    let full = source::text(input)?;
    // A byte order mark is not YAML content: read without it, write it back.
    let text = full.strip_prefix('\u{feff}').unwrap_or(full);
    let bom = full.len() - text.len();
    let mut output = run_text(source::without_blank_last_line(text), op, overrides)?;
    output.input = full;
    for (range, _) in &mut output.edits {
        *range = range.start + bom..range.end + bom;
    }
    Ok(output)
}

fn run_text<'a>(
    text: &'a str,
    op: Operation,
    overrides: &Overrides,
) -> Result<Output<'a>, RunError> {
    let json = source::is_json(text);
    let (located, function_config, eager) = scan(text, op, overrides, json)?;
    match located {
        Input::Stream { objects } => {
            let config = config_for(overrides, None)?;
            let done = process_all(text, &objects, op, &config, json, eager);
            let failed = done.reports.has_errors();
            Ok(Output {
                input: text,
                edits: ordered(done.edits),
                texts: done.texts,
                reports: done.reports,
                failed,
                resource_list: false,
                workloads: done.workloads,
                selected: done.selected,
            })
        }
        Input::ResourceList {
            items,
            results_entry,
            top,
            flow,
            ..
        } => {
            let done = match config_for(overrides, function_config.as_ref()) {
                Ok(config) => process_all(text, &items, op, &config, json, eager),
                Err(e) => Processed {
                    reports: std::iter::once(config_report(&e)).collect(),
                    ..Processed::default()
                },
            };
            let (mut edits, mut reports, mut texts) = (done.edits, done.reports, done.texts);
            if op == Operation::Convert && done.selected == 0 && done.workloads > 0 {
                reports.push(text.len(), &nothing_selected(done.workloads));
            }
            let failed = reports.has_errors();
            if !reports.is_empty() {
                reports.errors_first();
                let place = (results_entry, top, flow);
                results_edits(text, &reports, place, &mut texts, &mut edits);
            }
            Ok(Output {
                input: text,
                edits: ordered(edits),
                texts,
                reports,
                failed,
                resource_list: true,
                workloads: done.workloads,
                selected: done.selected,
            })
        }
    }
}

/// Finds the objects of the input, and the ResourceList's `functionConfig`. When the config
/// can be told before the scan, each workload is converted as soon as the scan has read it,
/// from the tree the scan built: parsed once, its tree dropped right away, and the scan keeps
/// nothing of it. The guess is checked against what the scan found: a wrong guess drops what
/// was done and scans again, so it costs time, never output.
fn scan<'a>(
    text: &'a str,
    op: Operation,
    overrides: &Overrides,
    json: bool,
) -> Result<(Input<'a>, Option<Value>, Eager), RunError> {
    let Some((config, guessed)) = early::config(text, overrides) else {
        let located = source::locate(text)?;
        let function_config = function_config_of(text, &located)?;
        return Ok((located, function_config, Eager::default()));
    };
    let mut eager = Eager::default();
    let located = source::locate_with(
        text,
        Some(&mut |found: &Located<'a>, tree| {
            let outcome = object::process(text, found, op, &config, json, Some(tree));
            eager.push(found.range.clone(), outcome);
        }),
        op == Operation::Convert && !config.select_all,
    )?;
    let function_config = function_config_of(text, &located)?;
    let right = match located {
        Input::Stream { .. } => guessed.is_none(),
        Input::ResourceList { .. } => guessed == function_config,
    };
    if right {
        Ok((located, function_config, eager))
    } else {
        Ok((source::locate(text)?, function_config, Eager::default()))
    }
}

/// What a ResourceList's `functionConfig` says, when it has one.
fn function_config_of(text: &str, located: &Input<'_>) -> Result<Option<Value>, RunError> {
    match located {
        Input::ResourceList {
            function_config: Some(range),
            ..
        } => Ok(Some(function_config_value(text, range.clone())?)),
        _ => Ok(None),
    }
}

type Edit = (std::ops::Range<usize>, Text);

/// What the ResourceList's `functionConfig` means.
fn function_config_value(text: &str, range: std::ops::Range<usize>) -> Result<Value, RunError> {
    let column = crate::text::column(text, range.start);
    let padded = format!("{}{}", " ".repeat(column), &text[range]);
    let docs = tree::parse(&padded).map_err(|e| RunError::FunctionConfig(e.to_string()))?;
    match docs.into_iter().next().flatten() {
        None => Ok(Value::Null),
        Some(root) => Resolver::new(&root)
            .value(&root)
            .map_err(|e| RunError::FunctionConfig(e.to_string())),
    }
}

fn config_for(
    overrides: &Overrides,
    function_config: Option<&Value>,
) -> Result<Config, ConfigError> {
    let mut config = Config::from_function_config(overrides.config.as_ref().or(function_config))?;
    config.select_all |= overrides.select_all;
    if let Some(image) = &overrides.image {
        config.image = image.clone();
    }
    if let Some(install) = overrides.install {
        config.install = install;
    }
    if let Some(resources) = overrides.resources {
        config.resources = resources;
    }
    Ok(config)
}

fn config_report(e: &ConfigError) -> Report {
    Report {
        object: ObjectRef::default(),
        severity: Severity::Error,
        field: None,
        message: format!("{e}; no object was changed"),
    }
}

/// The info report telling the user that nothing was selected, and how to select.
pub fn nothing_selected(workloads: usize) -> Report {
    Report {
        object: ObjectRef::default(),
        severity: Severity::Info,
        field: None,
        message: format!(
            "{workloads} Pod/Job/CronJob object(s) were left as they are: none is annotated \
             `{ANNOTATION}: \"true\"`; annotate the ones to convert, or convert all of them \
             with --all (selectAll: true in the function config)"
        ),
    }
}

/// Edits sorted by position; objects never overlap, and results come after the last one. The
/// sort is stable: pieces of one text at the same place stay in order.
fn ordered(mut edits: Vec<Edit>) -> Vec<Edit> {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    edits
}
