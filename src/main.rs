//! The `quotasim` binary: parse flags, run the command, map errors to exit codes (2 bad input, 1 other).

use clap::Parser;

fn main() {
    let args = quotasim::cli::Args::parse();
    if let Err(e) = quotasim::cli::execute(args) {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}
