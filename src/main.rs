//! The `quotasim` binary: parse flags, run the command, map errors to exit codes (2 bad input, 1 other).

use clap::Parser;
use std::io::Write;

fn main() {
    let args = quotasim::cli::Args::parse();
    match quotasim::cli::execute(args) {
        Ok(()) | Err(quotasim::Error::OutputClosed) => {}
        Err(e) => {
            // Even a closed standard error must not turn a clean failure into a panic.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
