//! The layout of every chart the bundled scenarios draw (run, sweep and advise), read from the SVG as the
//! PNG renderer lays it out with the bundled font: no text box over another, every one inside the canvas.

mod common;

use common::bundled_scenarios;
use quotasim::report::chart::{TextBox, text_boxes};
use std::path::Path;
use std::process::Command;

fn quotasim(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_quotasim")).args(args).output().unwrap();
    assert!(o.status.success(), "quotasim {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// What is wrong with the layout of one SVG chart, in words (empty: nothing).
fn layout_faults(name: &str, svg: &str) -> Vec<String> {
    let (boxes, (w, h)) = text_boxes(svg).unwrap_or_else(|e| panic!("{name}: {e}"));
    let boxes: Vec<&TextBox> = boxes.iter().filter(|b| !b.text.trim().is_empty()).collect();
    let mut faults = Vec::new();
    for b in &boxes {
        if b.left < -0.5 || b.top < -0.5 || b.right > w + 0.5 || b.bottom > h + 0.5 {
            faults.push(format!(
                "{name}: `{}` at ({:.0}, {:.0})–({:.0}, {:.0}) leaves the {w}×{h} canvas",
                b.text, b.left, b.top, b.right, b.bottom
            ));
        }
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            // A pixel of slack: glyph outlines of neighbouring rows may touch at anti-aliased edges.
            if a.overlaps(b, 1.0) {
                faults.push(format!(
                    "{name}: `{}` ({:.0}, {:.0})–({:.0}, {:.0}) overlaps `{}` ({:.0}, {:.0})–({:.0}, {:.0})",
                    a.text, a.left, a.top, a.right, a.bottom, b.text, b.left, b.top, b.right, b.bottom
                ));
            }
        }
    }
    faults
}

fn faults_in(dir: &Path) -> Vec<String> {
    let mut faults = Vec::new();
    let mut svgs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    svgs.sort();
    assert!(!svgs.is_empty(), "no chart in {}", dir.display());
    for path in svgs {
        let name =
            format!("{}/{}", dir.file_name().unwrap().to_string_lossy(), path.file_name().unwrap().to_string_lossy());
        faults.extend(layout_faults(&name, &std::fs::read_to_string(&path).unwrap()));
    }
    faults
}

#[test]
fn the_overlap_check_sees_an_overlap_and_a_label_off_the_canvas() {
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
        <text x="10" y="50" font-family="sans-serif" font-size="14">overlapping words</text>
        <text x="40" y="52" font-family="sans-serif" font-size="14">more words</text>
        <text x="170" y="90" font-family="sans-serif" font-size="14">cut off</text>
        </svg>"#;
    let faults = layout_faults("t", svg);
    assert_eq!(faults.len(), 2, "{faults:#?}");
    assert!(faults[0].contains("cut off") && faults[0].contains("leaves"));
    assert!(faults[1].contains("overlapping words") && faults[1].contains("more words"));
}

#[test]
fn run_charts_of_every_bundled_scenario_keep_their_text_apart_and_on_the_canvas() {
    let tmp = tempfile::tempdir().unwrap();
    let mut faults = Vec::new();
    for path in bundled_scenarios() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let out = tmp.path().join(&name);
        quotasim(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--format", "svg", "--quiet"]);
        faults.extend(faults_in(&out));
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn sweep_and_advice_charts_keep_their_text_apart_and_on_the_canvas() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let s = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let out = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let runs: [(&str, Vec<String>); 5] = [
        ("sweep-one", vec!["sweep".into(), s("sweep-threads.toml"), "--reps".into(), "3".into()]),
        (
            "sweep-compare",
            vec![
                "sweep".into(),
                s("retry-strategies.toml"),
                "--param".into(),
                "variant=all".into(),
                "--reps".into(),
                "3".into(),
            ],
        ),
        (
            // The example of `sweep --help`.
            "sweep-heatmap",
            vec![
                "sweep".into(),
                s("quickstart.toml"),
                "--param".into(),
                "client.workers.threads=1,2,4,8".into(),
                "--param".into(),
                "api.CompareFace.latency.mean=100ms,500ms".into(),
                "--reps".into(),
                "3".into(),
            ],
        ),
        (
            "advise-qps",
            vec![
                "advise".into(),
                s("quickstart.toml"),
                "--target".into(),
                "throttle_rate<=1%".into(),
                "--reps".into(),
                "3".into(),
            ],
        ),
        (
            "advise-plans",
            vec![
                "advise".into(),
                s("plan-shopping.toml"),
                "--target".into(),
                "throttle_rate<=1%".into(),
                "--reps".into(),
                "2".into(),
            ],
        ),
    ];
    let mut faults = Vec::new();
    for (name, mut args) in runs {
        args.extend(["--out".into(), out(name), "--format".into(), "svg".into(), "--quiet".into()]);
        quotasim(&args.iter().map(String::as_str).collect::<Vec<_>>());
        faults.extend(faults_in(&tmp.path().join(name)));
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
