//! `quotasim validate`: the simulator against results known in closed form.

use super::*;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The short set: fewer cases, shorter runs (a few seconds on two cores).
    #[arg(long)]
    pub quick: bool,
    /// Print the checks as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Threads to run on [default: all cores]. The output does not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
}

pub(super) fn validate_command(args: &ValidateArgs) -> Result<(), Error> {
    if let Some(n) = args.jobs.filter(|&n| n == 0 || n > MAX_JOBS) {
        return Err(Error::BadInput(format!("--jobs: {n} is not valid; expected 1 to {MAX_JOBS}")));
    }
    let checks = crate::validate::run(args.quick, args.jobs)?;
    if args.json {
        out(&format!("{}\n", serde_json::to_string_pretty(&checks).expect("checks serialise")))?;
    } else {
        out(&crate::validate::render(&checks))?;
    }
    match checks.iter().filter(|c| !c.pass).count() {
        0 => Ok(()),
        n => Err(Error::Failed(format!("{n} of {} validation checks failed", checks.len()))),
    }
}
