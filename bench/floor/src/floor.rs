//! The reference points the converter is measured against, reading all of stdin first like
//! the converter does, so peak memory compares too.
//!
//! - [`serde_pass`]: parse every document of the stream into a `serde_yaml::Value` with
//!   yaml_serde (the converter's YAML crate) and emit it again. This is the "bare
//!   parse+emit" floor of issue 13: what any tool that reads and rewrites the stream with the
//!   project's own YAML library pays at least.
//! - [`saphyr_pass`]: one saphyr-parser event pass over the whole input (the parser of the
//!   converter's scanner), then the input copied to stdout as bytes: the cost of a scan and a
//!   copy alone, with no selection, no tree and no edit.

use serde::Deserialize;
use std::io::{Read, Write};

type Result = std::result::Result<(), String>;

fn read_stdin() -> std::result::Result<String, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("reading stdin: {e}"))?;
    Ok(input)
}

fn with_stdout(f: impl FnOnce(&mut dyn Write) -> Result) -> Result {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    f(&mut out)?;
    out.flush().map_err(|e| format!("writing stdout: {e}"))
}

/// Parse and emit with yaml_serde, document by document.
pub fn serde_pass() -> Result {
    let input = read_stdin()?;
    with_stdout(|out| {
        for (i, document) in serde_yaml::Deserializer::from_str(&input).enumerate() {
            let value = serde_yaml::Value::deserialize(document).map_err(|e| e.to_string())?;
            if i > 0 {
                out.write_all(b"---\n").map_err(|e| e.to_string())?;
            }
            serde_yaml::to_writer(&mut *out, &value).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// One saphyr-parser event pass, then the input copied as bytes.
pub fn saphyr_pass() -> Result {
    let input = read_stdin()?;
    let mut parser = saphyr_parser::Parser::new_from_str(&input);
    while let Some(next) = parser.next_event() {
        let (event, _span) = next.map_err(|e| e.to_string())?;
        if matches!(event, saphyr_parser::Event::StreamEnd) {
            break;
        }
        std::hint::black_box(&event);
    }
    with_stdout(|out| out.write_all(input.as_bytes()).map_err(|e| e.to_string()))
}
