//! The whole run on one input: parse -> select -> convert each object -> emit. All-or-nothing:
//! if any object has an error, every object comes out exactly as it came in, so a failed run
//! never leaves half-converted manifests behind.

use crate::config::{ConfigError, Spec as Config};
use crate::convert::Severity;
use crate::object::{self, ANNOTATION, ObjectRef, Operation, Report};
use crate::results;
use crate::source::{self, Input, InputError, Located};
use crate::spill::{Text, Texts};
use crate::yaml::{tree, value::Resolver};

mod early;
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
    /// Everything worth telling, errors first in a ResourceList.
    pub reports: Vec<Report>,
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
        let mut at = 0;
        for (range, new_text) in &self.edits {
            w.write_all(&self.input.as_bytes()[at..range.start])?;
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
    let mut output = run_text(text, op, overrides)?;
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
    // When the config can be known before the scan, each workload is converted as soon as the
    // scan has read it, from the tree the scan built: parsed once, and its tree dropped right
    // away. The guess is checked against what the scan finds; a wrong guess only costs speed.
    let early = early::config(text, overrides);
    let mut eager = Eager::default();
    let located = match &early {
        Some((config, _)) => source::locate_with(
            text,
            Some(&mut |found: &Located<'a>, tree| {
                let outcome = object::process(text, found, op, config, json, Some(tree));
                eager.push(found.range.start, outcome);
            }),
            op == Operation::Convert && !config.select_all,
        )?,
        None => source::locate(text)?,
    };
    match located {
        Input::Stream { objects } => {
            let config = config_for(overrides, None)?;
            if !matches!(&early, Some((_, None))) {
                eager = Eager::default();
            }
            let done = process_all(text, &objects, op, &config, json, eager);
            let failed = done.reports.iter().any(|r| r.severity == Severity::Error);
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
            function_config,
            results_entry,
            top,
            flow,
        } => {
            let function_config = match function_config {
                Some(range) => Some(function_config_value(text, range)?),
                None => None,
            };
            if !matches!(&early, Some((_, guessed)) if *guessed == function_config) {
                eager = Eager::default();
            }
            let done = match config_for(overrides, function_config.as_ref()) {
                Ok(config) => process_all(text, &items, op, &config, json, eager),
                Err(e) => Processed {
                    reports: vec![config_report(&e)],
                    ..Processed::default()
                },
            };
            let (mut edits, mut reports, texts) = (done.edits, done.reports, done.texts);
            if op == Operation::Convert && done.selected == 0 && done.workloads > 0 {
                reports.push(nothing_selected(done.workloads));
            }
            let failed = reports.iter().any(|r| r.severity == Severity::Error);
            if !reports.is_empty() {
                reports.sort_by_key(|r| std::cmp::Reverse(r.severity));
                edits.push(results_edit(text, &reports, results_entry, top, flow));
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

/// What processing every object gave.
#[derive(Default)]
struct Processed {
    edits: Vec<Edit>,
    texts: Texts,
    reports: Vec<Report>,
    workloads: usize,
    selected: usize,
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

/// Objects converted during the scan, by where they start, in input order; their new texts
/// already stored.
#[derive(Default)]
struct Eager {
    texts: Texts,
    done: std::collections::VecDeque<(usize, Stored)>,
}

/// An [`object::Outcome`] whose text is kept in a [`Texts`].
struct Stored {
    text: Option<Text>,
    reports: Vec<Report>,
    is_workload: bool,
    touched: bool,
}

impl Stored {
    fn new(outcome: object::Outcome, texts: &mut Texts) -> Stored {
        Stored {
            text: outcome.text.map(|t| texts.store(t)),
            reports: outcome.reports,
            is_workload: outcome.is_workload,
            touched: outcome.touched,
        }
    }
}

impl Eager {
    fn push(&mut self, start: usize, mut outcome: object::Outcome) {
        // Held until every object is read: a stream of many objects must not hold each
        // one's spare capacity.
        outcome.reports.shrink_to_fit();
        let stored = Stored::new(outcome, &mut self.texts);
        self.done.push_back((start, stored));
    }

    /// The outcome for the object starting at `start`, when it was converted during the scan.
    fn take(&mut self, start: usize) -> Option<Stored> {
        while let Some((at, _)) = self.done.front() {
            if *at > start {
                return None;
            }
            let (at, stored) = self.done.pop_front()?;
            if at == start {
                return Some(stored);
            }
        }
        None
    }
}

/// The text edits for every object, or none at all when any object has an error.
fn process_all(
    text: &str,
    objects: &[Located],
    op: Operation,
    config: &Config,
    json: bool,
    mut eager: Eager,
) -> Processed {
    let mut done = Processed {
        texts: std::mem::take(&mut eager.texts),
        ..Processed::default()
    };
    // Sized for what is already known, rather than grown to up to twice that.
    done.reports
        .reserve_exact(eager.done.iter().map(|(_, s)| s.reports.len()).sum());
    done.edits.reserve_exact(eager.done.len());
    for obj in objects {
        let stored = eager.take(obj.range.start).unwrap_or_else(|| {
            let outcome = object::process(text, obj, op, config, json, None);
            Stored::new(outcome, &mut done.texts)
        });
        done.workloads += usize::from(stored.is_workload);
        done.selected += usize::from(stored.touched);
        done.reports.extend(stored.reports);
        if let Some(stored) = stored.text {
            done.edits.push((obj.range.clone(), stored));
        }
    }
    if done.reports.iter().any(|r| r.severity == Severity::Error) {
        done.edits.clear();
        done.texts = Texts::default();
    }
    done
}

/// Edits sorted by position; objects never overlap, and results come after the last one.
fn ordered(mut edits: Vec<Edit>) -> Vec<Edit> {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    edits
}

/// The edit that puts the results into the ResourceList: it replaces an existing `results`
/// entry, or is appended as the last entry of the top mapping. Either way the line structure
/// around it is kept: a replaced or appended block entry ends with a newline exactly when the
/// text it follows did.
fn results_edit(
    text: &str,
    reports: &[Report],
    results_entry: Option<std::ops::Range<usize>>,
    top: std::ops::Range<usize>,
    flow: bool,
) -> Edit {
    let end = results_entry.as_ref().map_or(top.end, |r| r.end);
    let ends_line = text[..end].ends_with('\n');
    let entry = if flow {
        results::flow_entry(reports)
    } else {
        results::block_entry(reports)
    };
    let (range, text) = match (results_entry, flow) {
        (Some(r), false) if ends_line => (r, format!("{entry}\n")),
        (Some(r), _) => (r, entry),
        // `top` ends at the closing brace of the flow mapping.
        (None, true) => (top.end - 1..top.end - 1, format!(", {entry}")),
        (None, false) if ends_line => (top.end..top.end, format!("{entry}\n")),
        (None, false) => (top.end..top.end, format!("\n{entry}")),
    };
    (range, Text::Inline(text))
}
