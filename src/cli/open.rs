//! `--open`: the written report or chart, handed to the system's viewer.

use super::say_error;
use crate::Error;
use std::path::PathBuf;

/// `--open`: shows report.html or the first chart among `written` in the system's viewer, detached; when
/// none can be started, prints the path. Never fails the command.
/// Opens what `--open` asked for. A failure to open it is said on standard error even under `--quiet`:
/// it is a request not met, not chatter.
pub(super) fn open_output(what: Option<&str>, written: &[PathBuf]) -> Result<(), Error> {
    let Some(what) = what else { return Ok(()) };
    let wanted = |p: &&PathBuf| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match what {
            "chart" => name.ends_with(".png") || name.ends_with(".svg"),
            _ => name == "report.html",
        }
    };
    let Some(path) = written.iter().find(wanted) else {
        return say_error(&format!("--open {what}: nothing of that kind was written"));
    };
    let viewers: &[(&str, &[&str])] = if cfg!(target_os = "macos") {
        &[("open", &[])]
    } else if cfg!(windows) {
        &[("cmd", &["/C", "start", ""])]
    } else {
        &[("xdg-open", &[]), ("gio", &["open"]), ("sensible-browser", &[])]
    };
    for (program, args) in viewers {
        let started = std::process::Command::new(program)
            .args(*args)
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        // A launcher that fails says so by its exit status, quickly (xdg-open exits 3 on a machine with no
        // desktop): wait a moment for it; one still running has handed the file to a viewer.
        let Ok(mut child) = started else { continue };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let opened = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if opened {
            return Ok(());
        }
    }
    say_error(&format!("--open: no viewer to open it with; it is at {}", path.display()))
}
