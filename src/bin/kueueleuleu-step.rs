//! `kueueleuleu-step`: the tiny runner inside every converted container. All logic lives in
//! `kueueleuleu::step` so it is unit-tested; this file only hands over the arguments. The
//! runner needs Linux (flock, inotify, signalfd); elsewhere the binary only says so, so that
//! `cargo install` of the converter works on any OS.

#[cfg(target_os = "linux")]
fn main() {
    let code = kueueleuleu::step::cli::main(std::env::args_os().skip(1).collect());
    std::process::exit(code);
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("kueueleuleu-step: runs only on Linux (inside the containers of a converted Pod)");
    std::process::exit(2);
}
