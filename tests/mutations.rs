//! Property tests against hostile input: random mutations of every bundled scenario (values replaced by
//! random numbers and strings, huge and negative numbers, keys removed or written twice) run through the
//! binary, and random bytes read as traces in every format. Whatever the input: no panic, exit 0 or 2,
//! within a time bound (a work limit keeps valid mutants small) and a memory bound (the address space is
//! capped).

mod common;

use proptest::prelude::*;
use quotasim::workload::trace::{ApiMapping, Format, TimeFormat, TraceSource, TraceSpec};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIME_BOUND: Duration = Duration::from_secs(60);

fn bundled() -> Vec<(String, toml::Table)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    common::bundled_scenarios()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            // Trace paths made absolute, so a mutant written elsewhere still finds its trace.
            let text = text.replace("path = \"traces/", &format!("path = \"{}/traces/", dir.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), toml::from_str(&text).unwrap())
        })
        .collect()
}

/// Every leaf of a TOML value as a path of keys and indices.
fn leaves(value: &toml::Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                path.push(Step::Key(k.clone()));
                leaves(v, path, out);
                path.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                path.push(Step::Index(i));
                leaves(v, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(root: &'a mut toml::Value, path: &[Step]) -> Option<&'a mut toml::Value> {
    path.iter().try_fold(root, |v, step| match step {
        Step::Key(k) => v.as_table_mut()?.get_mut(k),
        Step::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Any value in place of the leaf.
    Replace(toml::Value),
    /// A value of the leaf's own type, so that validation (not the type check) meets it.
    Perturb(toml::Value, toml::Value, toml::Value),
    Remove,
    Duplicate,
}

fn hostile_value() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        prop_oneof![Just(0i64), Just(-1), Just(i64::MAX), Just(i64::MIN), Just(1_000_000_000), any::<i64>()]
            .prop_map(toml::Value::Integer),
        prop_oneof![
            Just(0.0f64),
            Just(-1.5),
            Just(1e308),
            Just(-1e308),
            Just(1e-300),
            Just(f64::INFINITY),
            any::<f64>()
        ]
        .prop_map(toml::Value::Float),
        prop_oneof![
            Just(String::new()),
            Just("../../x".to_string()),
            Just("99999999999999999999999999999d 2ns".to_string()),
            Just("1ns".to_string()),
            Just("0s".to_string()),
            Just("9999-12-31T23:59:59+23:59".to_string()),
            Just("2026-11-26T09:00:00+25:00".to_string()),
            Just("\u{0}\u{7f}é漢".to_string()),
            "[a-z0-9.:+-]{0,12}",
        ]
        .prop_map(toml::Value::String),
        any::<bool>().prop_map(toml::Value::Boolean),
        Just(toml::Value::Array(vec![])),
        Just(toml::Value::Table(toml::Table::new())),
    ]
}

fn duration_text() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        (0u64..5_000, prop_oneof![Just("ns"), Just("us"), Just("ms"), Just("s"), Just("m"), Just("h"), Just("d")])
            .prop_map(|(n, u)| format!("{n}{u}")),
        Just("0s".to_string()),
        Just("1ns".to_string()),
        Just("584y".to_string()),
        Just("106751d".to_string()),
    ]
    .prop_map(toml::Value::String)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let int = prop_oneof![Just(0i64), Just(1), Just(-1), Just(i64::MAX), Just(1_000_000), 0i64..100]
        .prop_map(toml::Value::Integer);
    let float = prop_oneof![Just(0.0f64), Just(-1.0), Just(1e308), Just(1e-12), Just(f64::NAN), 0.0f64..100.0]
        .prop_map(toml::Value::Float);
    prop_oneof![
        2 => hostile_value().prop_map(Mutation::Replace),
        6 => (int, float, duration_text()).prop_map(|(i, f, d)| Mutation::Perturb(i, f, d)),
        1 => Just(Mutation::Remove),
        1 => Just(Mutation::Duplicate),
    ]
}

/// Applies `m` at the `pick`-th leaf (modulo their number); returns the scenario text.
fn mutate(table: &toml::Table, picks: &[(usize, Mutation)]) -> String {
    let mut root = toml::Value::Table(table.clone());
    let mut duplicate = None;
    for (pick, m) in picks {
        let mut all = Vec::new();
        leaves(&root, &mut Vec::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let path = &all[pick % all.len()];
        match m {
            Mutation::Replace(v) => {
                if let Some(slot) = at(&mut root, path) {
                    *slot = v.clone();
                }
            }
            Mutation::Perturb(i, f, d) => {
                if let Some(slot) = at(&mut root, path) {
                    *slot = match &*slot {
                        toml::Value::Integer(_) => i.clone(),
                        toml::Value::Float(_) => f.clone(),
                        toml::Value::String(s) if quotasim::time::parse_duration(s).is_ok() => d.clone(),
                        toml::Value::Boolean(b) => toml::Value::Boolean(!b),
                        other => other.clone(),
                    };
                }
            }
            Mutation::Remove => {
                let (last, parent) = path.split_last().unwrap();
                if let Some(parent) = at(&mut root, parent) {
                    match (last, parent) {
                        (Step::Key(k), toml::Value::Table(t)) => {
                            t.remove(k);
                        }
                        (Step::Index(i), toml::Value::Array(a)) => {
                            a.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            Mutation::Duplicate => {
                if let Some(Step::Key(k)) = path.first() {
                    duplicate = Some(k.clone());
                }
            }
        }
    }
    let mut text = toml::to_string(&root).unwrap_or_default();
    if let Some(k) = duplicate {
        // A key written twice at the top: TOML refuses it; the error must still locate it.
        text = format!("{k} = 1\n{text}");
    }
    text
}

/// Runs the binary on `text` with the address space capped and a short work limit; returns the exit code
/// and stderr, or fails the property on a panic or a time-out.
fn run_capped(dir: &Path, text: &str) -> Result<(i32, String), TestCaseError> {
    let path = dir.join("mutant.toml");
    std::fs::write(&path, text).unwrap();
    let out_dir = dir.join("out");
    let script = "ulimit -v 4000000 2>/dev/null; exec \"$@\"";
    let mut child = Command::new("bash")
        .args(["-c", script, "capped", env!("CARGO_BIN_EXE_quotasim"), "run"])
        .arg(&path)
        .args(["--out", out_dir.to_str().unwrap(), "--quiet", "--no-chart"])
        .env("QUOTASIM_MAX_ATTEMPTS", "2000000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return Ok((status.code().unwrap_or(-1), stderr));
        }
        if started.elapsed() > TIME_BOUND {
            let _ = child.kill();
            return Err(TestCaseError::fail(format!("no answer within {TIME_BOUND:?} for:\n{text}")));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn mutated_bundled_scenarios_exit_0_or_2_and_never_panic(
        which in 0usize..64,
        picks in proptest::collection::vec((any::<usize>(), mutation()), 1..4),
    ) {
        let scenarios = bundled();
        let (name, table) = &scenarios[which % scenarios.len()];
        let text = mutate(table, &picks);
        let tmp = tempfile::tempdir().unwrap();
        let (code, stderr) = run_capped(tmp.path(), &text)?;
        prop_assert!(!stderr.contains("panicked"), "{name}: {stderr}\n{text}");
        prop_assert!(code == 0 || code == 2, "{name}: exit {code}: {stderr}\n{text}");
        if code == 2 {
            prop_assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        }
    }
}

fn spec(format: Format, time_format: TimeFormat, caller: bool, latency: bool) -> TraceSpec {
    TraceSpec {
        path: PathBuf::from("fuzz"),
        format,
        time: "t".into(),
        time_format,
        caller: caller.then(|| if format == Format::AccessLog { "host".into() } else { "c".into() }),
        api: ApiMapping::Constant(0),
        latency: latency.then(|| ("ms".to_string(), 1e6)),
        // With a latency column, the same column (or an access log's byte count) is a cost too.
        cost: match (latency, format) {
            (false, _) => Vec::new(),
            (true, Format::AccessLog) => vec!["bytes".into()],
            (true, _) => vec!["ms".into()],
        },
        shift: true,
        speed: 1.0,
    }
}

/// Reads every row of `bytes` as a trace; a panic fails, an error is fine. Returns the rows read.
fn read_all(spec: &TraceSpec, bytes: Vec<u8>, skip: bool) -> u64 {
    let input: Box<dyn std::io::BufRead> = Box::new(std::io::Cursor::new(bytes));
    let Ok(mut source) = TraceSource::from_reader(spec, "fuzz".into(), input, 0, skip) else { return 0 };
    while let Ok(Some(_)) = source.next_event() {}
    source.rows()
}

fn row_bytes() -> impl Strategy<Value = Vec<u8>> {
    let row = prop_oneof![
        "[0-9]{1,12}(\\.[0-9]{0,3})?,[a-z]{0,4},[0-9e.+-]{0,6}".prop_map(String::into_bytes),
        "\\{\"t\": ?[0-9e.-]{1,8}, ?\"c\": ?\"[a-z]{0,3}\"\\}".prop_map(String::into_bytes),
        "[a-z]{1,5} - - \\[0[1-9]/Aug/1995:0[0-9]:[0-5][0-9]:[0-5][0-9] -0400\\] \"GET /[a-z]{0,4} HTTP/1.0\" 200 [0-9]{1,4}"
            .prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    (proptest::collection::vec(row, 0..30), prop_oneof![Just("\n"), Just("\r\n"), Just("\r")])
        .prop_map(|(rows, end)| rows.join(end.as_bytes()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_as_traces_never_panic(
        bytes in prop_oneof![row_bytes(), proptest::collection::vec(any::<u8>(), 0..2000)],
        header in prop_oneof![Just(b"t,c,ms\n".to_vec()), Just(b"t\tc\tms\n".to_vec()), Just(Vec::new())],
        format in 0usize..4,
        time_format in 0usize..4,
        caller in any::<bool>(),
        latency in any::<bool>(),
        skip in any::<bool>(),
    ) {
        let formats = [Format::Delimited(b','), Format::Delimited(b'\t'), Format::AccessLog, Format::JsonLines];
        let times = [TimeFormat::Unix(1_000_000_000), TimeFormat::Unix(1), TimeFormat::Rfc3339,
            TimeFormat::DateTime(jiff::tz::Offset::UTC)];
        let format = formats[format];
        let time_format = if format == Format::AccessLog { TimeFormat::AccessLog } else { times[time_format] };
        let mut input = header;
        input.extend(bytes);
        let lines = input.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64 + 1;
        let rows = read_all(&spec(format, time_format, caller, latency), input, skip);
        prop_assert!(rows <= lines);
    }
}
