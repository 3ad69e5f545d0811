//! Shell completions and man pages, generated from the CLI definition.

use super::*;

/// Every shell's script is produced and names the subcommands; a shell installed here
/// parses its script (`-n`). Which shells ran is printed.
#[test]
fn completions_for_every_shell() {
    for (shell, checker) in [
        ("bash", Some("bash")),
        ("zsh", Some("zsh")),
        ("fish", Some("fish")),
        ("powershell", None),
    ] {
        let out = run(
            Command::new(kueueleuleu_bin()).args(["completions", shell]),
            None,
        )
        .success("kueueleuleu completions");
        for word in ["convert", "revert", "completions", "filename"] {
            assert!(out.stdout.contains(word), "{shell}: {word} missing");
        }
        let Some(checker) = checker else { continue };
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(checker))
            .find(|p| p.is_file());
        let Some(found) = found else {
            eprintln!("{shell}: `{checker}` not installed here, script not parsed");
            continue;
        };
        let tmp = TempDir::new("completions");
        let file = tmp.join(format!("kueueleuleu.{shell}"));
        std::fs::write(&file, &out.stdout).unwrap();
        run(Command::new(&found).arg("-n").arg(&file), None).success("shell -n");
        eprintln!("{shell}: `{checker} -n` parsed the script");
    }
}

#[test]
fn man_pages_render() {
    let out = run(Command::new(kueueleuleu_bin()).arg("man"), None).success("kueueleuleu man");
    assert!(out.stdout.contains(".TH kueueleuleu 1"), "{}", out.stdout);
    assert!(out.stdout.contains("convert"));
    let tmp = TempDir::new("man");
    run(
        Command::new(kueueleuleu_bin())
            .args(["man", "--out-dir"])
            .arg(tmp.join("man1")),
        None,
    )
    .success("kueueleuleu man --out-dir");
    // Other subcommands may join; these pages must be there, each a roff page.
    for page in [
        "kueueleuleu.1",
        "kueueleuleu-convert.1",
        "kueueleuleu-revert.1",
    ] {
        let text = std::fs::read_to_string(tmp.join("man1").join(page))
            .unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH "), "{page} is a man page");
    }
}
