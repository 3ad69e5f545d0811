//! The reports of a whole run, packed. A run that converts ten thousand objects says something
//! about each of them, and is all-or-nothing, so every report is held until the end: as
//! [`Report`] values (a struct of six strings each) they cost more memory than the objects'
//! text. Here each one is a single record in a shared buffer, turned back into a [`Report`]
//! only while it is read.

use super::{ObjectRef, Report};
use crate::convert::Severity;

/// Every report of a run, in the order they will be shown.
#[derive(Default, Clone)]
pub struct Reports {
    /// The records, back to back.
    bytes: Vec<u8>,
    /// Each record: where it starts in `bytes`, and the input offset of the object it is about
    /// (what puts reports in input order when objects were processed out of order).
    records: Vec<(usize, usize)>,
    errors: usize,
    /// Where the last record's repeatable strings are (see [`Slot`]).
    last: [Option<usize>; SLOTS],
}

/// Strings that are often the same from one report to the next (a stream of similar Jobs all
/// get "Job", "batch/v1" and the same field and message): when equal to the previous record's,
/// a record points back at it instead of holding a copy.
#[derive(Clone, Copy)]
enum Slot {
    ApiVersion,
    Kind,
    Namespace,
    Field,
    Message,
}

const SLOTS: usize = 5;

impl Reports {
    /// Adds `report` about the object starting at input offset `position`.
    pub fn push(&mut self, position: usize, report: &Report) {
        self.records.push((self.bytes.len(), position));
        self.errors += usize::from(report.severity == Severity::Error);
        self.encode(report);
    }

    /// How many reports there are.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Whether any report is an error, which fails the run.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    /// Each report, decoded as it is reached.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Report> + '_ {
        self.records.iter().map(|&(at, _)| decode(&self.bytes, at))
    }

    /// Puts the reports in the order of the objects they are about; the reports about one
    /// object keep their order.
    pub fn order_by_position(&mut self) {
        self.records.sort_by_key(|&(_, position)| position);
    }

    /// Errors first, then warnings, then infos, each kept in its order (kpt lists results
    /// this way).
    pub fn errors_first(&mut self) {
        let bytes = &self.bytes;
        self.records
            .sort_by_key(|&(at, _)| std::cmp::Reverse(severity_of(bytes[at])));
    }

    /// Drops the reports about objects `keep` refuses.
    pub fn retain_positions(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let bytes = &self.bytes;
        let mut errors = 0;
        self.records.retain(|&(at, position)| {
            let kept = keep(position);
            errors += usize::from(kept && severity_of(bytes[at]) == Severity::Error);
            kept
        });
        self.errors = errors;
    }

    /// Lets go of the spare capacity of a finished run.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.records.shrink_to_fit();
    }
}

impl std::fmt::Debug for Reports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Reports {
    fn eq(&self, other: &Reports) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Reports {}

impl FromIterator<Report> for Reports {
    fn from_iter<I: IntoIterator<Item = Report>>(iter: I) -> Reports {
        let mut reports = Reports::default();
        for (i, report) in iter.into_iter().enumerate() {
            reports.push(i, &report);
        }
        reports
    }
}

fn severity_code(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

fn severity_of(code: u8) -> Severity {
    match code {
        0 => Severity::Info,
        1 => Severity::Warning,
        _ => Severity::Error,
    }
}

impl Reports {
    /// A record: the severity byte, then each field. Numbers are LEB128; an optional value is
    /// a 0 when absent, else 1 and the value. A string is its length times two, then its bytes;
    /// or, when it repeats the previous record's, the offset of that copy times two plus one.
    fn encode(&mut self, r: &Report) {
        let (out, last) = (&mut self.bytes, &mut self.last);
        out.push(severity_code(r.severity));
        let o = &r.object;
        put_repeatable(out, last, Slot::ApiVersion, &o.api_version);
        put_repeatable(out, last, Slot::Kind, &o.kind);
        put_str(out, &o.name);
        put_opt(out, o.namespace.as_deref(), |out, ns| {
            put_repeatable(out, last, Slot::Namespace, ns);
        });
        put_opt(out, o.file.as_ref(), |out, (path, index)| {
            put_str(out, path);
            put_opt(out, *index, put_u64);
        });
        put_opt(out, o.line.map(|l| l as u64), put_u64);
        put_opt(out, r.field.as_deref(), |out, field| {
            put_repeatable(out, last, Slot::Field, field);
        });
        put_repeatable(out, last, Slot::Message, &r.message);
    }
}

/// Writes `s`, or a pointer back to the previous record's copy in `slot` when it is the same.
fn put_repeatable(out: &mut Vec<u8>, last: &mut [Option<usize>; SLOTS], slot: Slot, s: &str) {
    if let Some(at) = last[slot as usize]
        && Reader::at(out, at).string_bytes() == s.as_bytes()
    {
        put_u64(out, (at as u64) << 1 | 1);
        return;
    }
    last[slot as usize] = Some(out.len());
    put_str(out, s);
}

fn put_u64(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, (s.len() as u64) << 1);
    out.extend_from_slice(s.as_bytes());
}

fn put_opt<T>(out: &mut Vec<u8>, value: Option<T>, put: impl FnOnce(&mut Vec<u8>, T)) {
    match value {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put(out, v);
        }
    }
}

/// Reads back what [`Reports::encode`] wrote at `at`.
fn decode(bytes: &[u8], at: usize) -> Report {
    let mut r = Reader::at(bytes, at + 1);
    let severity = severity_of(bytes[at]);
    let api_version = r.string();
    let kind = r.string();
    let name = r.string();
    let namespace = r.opt(Reader::string);
    let file = r.opt(|r| {
        let path = r.string();
        (path, r.opt(Reader::u64))
    });
    let line = r.opt(Reader::u64).map(|l| l as usize);
    let field = r.opt(Reader::string);
    let message = r.string();
    Report {
        object: ObjectRef {
            api_version,
            kind,
            name,
            namespace,
            file,
            line,
        },
        severity,
        field,
        message,
    }
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn at(bytes: &'b [u8], at: usize) -> Reader<'b> {
        Reader { bytes, at }
    }

    fn u64(&mut self) -> u64 {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let byte = self.bytes[self.at];
            self.at += 1;
            n |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return n;
            }
            shift += 7;
        }
    }

    /// The bytes of the string here, following a pointer back to an earlier copy.
    fn string_bytes(&mut self) -> &'b [u8] {
        let n = self.u64();
        if n & 1 == 1 {
            return Reader::at(self.bytes, (n >> 1) as usize).string_bytes();
        }
        let len = (n >> 1) as usize;
        let s = &self.bytes[self.at..self.at + len];
        self.at += len;
        s
    }

    fn string(&mut self) -> String {
        String::from_utf8(self.string_bytes().to_vec()).expect("encoded from a str")
    }

    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> T) -> Option<T> {
        self.at += 1;
        (self.bytes[self.at - 1] == 1).then(|| read(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(severity: Severity, name: &str, line: Option<usize>) -> Report {
        Report {
            object: ObjectRef {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: name.into(),
                namespace: Some("ns-ü".into()),
                file: Some(("jobs/a.yaml".into(), Some(300))),
                line,
            },
            severity,
            field: Some("spec.template.spec.containers".into()),
            message: "runs 3 step(s) in sequence: a -> b".into(),
        }
    }

    #[test]
    fn every_field_comes_back() {
        let variants = [
            report(Severity::Info, "a", Some(1)),
            report(Severity::Error, "", None),
            Report {
                object: ObjectRef::default(),
                severity: Severity::Warning,
                field: None,
                message: "x".repeat(200),
            },
            Report {
                object: ObjectRef {
                    file: Some(("f".into(), None)),
                    line: Some(usize::MAX >> 1),
                    ..ObjectRef::default()
                },
                severity: Severity::Info,
                field: Some(String::new()),
                message: String::new(),
            },
        ];
        let packed: Reports = variants.iter().cloned().collect();
        assert_eq!(packed.iter().collect::<Vec<_>>(), variants);
        assert!(packed.has_errors());
    }

    #[test]
    fn repeated_strings_are_stored_once_and_read_back_in_any_order() {
        let mut many = Vec::new();
        for i in 0..50 {
            let mut r = report(Severity::Info, &format!("job-{i}"), Some(i));
            if i % 7 == 0 {
                r.message = format!("other {i}");
                r.object.namespace = None;
            }
            if i % 11 == 0 {
                r.field = None;
            }
            many.push(r);
        }
        let mut packed = Reports::default();
        for (i, r) in many.iter().enumerate() {
            packed.push(50 - i, r);
        }
        let alone: usize = {
            let mut one = Reports::default();
            one.push(0, &many[1]);
            one.bytes.len()
        };
        assert!(
            packed.bytes.len() < alone * 50 / 2,
            "{} bytes for 50 similar reports, {alone} for one",
            packed.bytes.len()
        );
        packed.order_by_position();
        many.reverse();
        assert_eq!(packed.iter().collect::<Vec<_>>(), many);
    }

    #[test]
    fn orders_by_position_then_severity_keeping_each_objects_order() {
        let mut packed = Reports::default();
        packed.push(30, &report(Severity::Info, "c1", None));
        packed.push(10, &report(Severity::Info, "a1", None));
        packed.push(10, &report(Severity::Warning, "a2", None));
        packed.push(30, &report(Severity::Error, "c2", None));
        packed.push(20, &report(Severity::Info, "b1", None));
        packed.order_by_position();
        let names = |p: &Reports| p.iter().map(|r| r.object.name).collect::<Vec<_>>();
        assert_eq!(names(&packed), ["a1", "a2", "b1", "c1", "c2"]);
        packed.errors_first();
        assert_eq!(names(&packed), ["c2", "a2", "a1", "b1", "c1"]);
        packed.retain_positions(|p| p != 30);
        assert_eq!(names(&packed), ["a2", "a1", "b1"]);
        assert!(!packed.has_errors());
    }
}
