//! The `quotasim` binary: parse flags, run the command, map errors to exit codes (2 bad input, 1 other).

use clap::Parser;
use std::io::Write;

fn main() {
    // Ctrl-C ends the process without leaving the run's temporary files behind (130, as a shell reports
    // an interrupt).
    let _ = ctrlc::set_handler(|| {
        quotasim::report::outputs::remove_own_temporaries();
        std::process::exit(130);
    });
    let args = quotasim::cli::Args::parse();
    match quotasim::cli::execute(args) {
        Ok(()) | Err(quotasim::Error::OutputClosed) => {}
        Err(e) => {
            // Errors echo input (a cell, a name): its control characters are escaped before a terminal
            // sees them. Even a closed standard error must not turn a clean failure into a panic.
            let message = match &e {
                // The offending line with a caret under the key, as cargo shows a compile error.
                quotasim::Error::Scenario(se) => se.report(std::fs::read_to_string(&se.file).ok().as_deref()),
                e => e.to_string(),
            };
            let _ = writeln!(std::io::stderr(), "error: {}", quotasim::text::terminal_lines(&message));
            std::process::exit(e.exit_code());
        }
    }
}
