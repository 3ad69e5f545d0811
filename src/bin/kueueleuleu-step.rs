//! `kueueleuleu-step`: the tiny runner inside every converted container. All logic lives in
//! `kueueleuleu::step` so it is unit-tested; this file only hands over the arguments.

fn main() {
    let code = kueueleuleu::step::cli::main(std::env::args_os().skip(1).collect());
    std::process::exit(code);
}
