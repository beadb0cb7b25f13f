//! `quotasim check`: a scenario checked (and its traces' headers) without running it.

use super::*;

/// `quotasim check`: parse and validate, then say what the scenario holds and the work a run would take.
pub(super) fn check_command(path: &Path) -> Result<(), Error> {
    let sc = Scenario::load(path)?;
    for w in sc.warnings() {
        out(&format!("{w}\n"))?;
    }
    let work = guard::estimate(&sc);
    guard::check(&work, 1.0, false, "a run")?;
    let traces = sc.clients.iter().filter(|c| matches!(c.model, crate::workload::ClientModel::Trace(_))).count();
    out(&format!(
        "{}: ok — {} API{}, {} account{}, {} client{}{}, {} from {}; a run would make about {} attempts (traces not \
            counted)\n",
        path.display(),
        sc.apis.len(),
        if sc.apis.len() == 1 { "" } else { "s" },
        sc.accounts.len(),
        if sc.accounts.len() == 1 { "" } else { "s" },
        sc.clients.len(),
        if sc.clients.len() == 1 { "" } else { "s" },
        if traces > 0 { format!(" ({traces} replaying a log, headers checked)") } else { String::new() },
        time::format_duration(sc.duration),
        sc.instant_text(0),
        if work.attempts < 1e6 { format!("{:.0}", work.attempts) } else { format!("{:.1e}", work.attempts) }
    ))
}
