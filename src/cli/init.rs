//! `quotasim init`: a commented starting scenario from a few facts about the caller.

use super::*;

#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The scenario file to write (it must not exist).
    pub file: PathBuf,
    /// Worker threads calling the API, each waiting for its reply before the next call.
    #[arg(long, default_value_t = 8)]
    pub threads: u32,
    /// The API's mean response time.
    #[arg(long, default_value = "500ms")]
    pub response: String,
    /// The API's category: face-body, text-recognition, segmentation, other.
    #[arg(long, default_value = "face-body")]
    pub category: String,
    /// The API's name.
    #[arg(long, default_value = "CompareFace")]
    pub api: String,
    /// The plan: `pay-as-you-go`, `package` (a resource package bought the day before), or `prepaid:N`
    /// (N prepaid QPS for the whole run).
    #[arg(long, default_value = "pay-as-you-go")]
    pub plan: String,
    /// How long to simulate.
    #[arg(long, default_value = "10m")]
    pub duration: String,
}

/// `quotasim init`: a commented scenario from the flags, checked by the parser before it is written.
pub(super) fn init_command(args: &InitArgs) -> Result<(), Error> {
    let name = args
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().replace(|c: char| !c.is_alphanumeric() && c != '-' && c != '_', "-"))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "my-scenario".into());
    let plan = match args.plan.as_str() {
        "pay-as-you-go" => "# No plan: the category's pay-as-you-go QPS applies.\n".to_string(),
        "package" => "[[account.plan]]\ntype = \"resource-package\"\nname = \"pack\"\ncategory = \"CATEGORY\"\ncalls \
            = 100000\nbought = \"2026-11-25T12:00:00+08:00\"   # 5 QPS from 08:00 UTC+8 the next \
            day\n"
            .replace("CATEGORY", &args.category),
        other => match other.strip_prefix("prepaid:").and_then(|q| q.parse::<u32>().ok()) {
            Some(q) => format!(
                "[[account.plan]]\ntype = \"prepaid-qps\"\nname = \"prepaid\"\napi = \"{}\"\nqps = \
                {q}\nfrom = \"2026-11-26T09:00:00+08:00\"\nuntil = \"2026-11-27T09:00:00+08:00\"\n",
                args.api
            ),
            None => {
                return Err(Error::BadInput(format!(
                    "--plan: `{other}` is not valid; expected pay-as-you-go, package or prepaid:N (e.g. prepaid:10)"
                )));
            }
        },
    };
    let text = format!(
        r#"# {name}: {threads} threads call {api} ({category}); written by `quotasim init`, edit freely.
# By the platform's formula, QPS = concurrency / average response time: {threads} threads at {response}
# want about {want} QPS. Run it: quotasim run {file}
name = "{name}"
seed = 1
start = "2026-11-26T09:00:00+08:00"   # the scenario's clock: windows and plans follow its offset
duration = "{duration}"

[server]
throttle_latency = "10ms"   # a throttled call comes back at once

[[api]]
name = "{api}"
category = "{category}"   # face-body, text-recognition (1 QPS), segmentation, other: the pay-as-you-go QPS
latency = {{ dist = "exponential", mean = "{response}" }}

[[account]]
name = "main"
{plan}
[[client]]
name = "workers"
account = "main"
api = "{api}"
model = "closed"
threads = {threads}
retry = {{ policy = "fixed", wait = "1s", max_attempts = 10 }}   # the platform's advice: wait 1 s, retry
"#,
        threads = args.threads,
        want = time::parse_duration(&args.response).ok().filter(|&r| r > 0).map_or("?".to_string(), |r| format!(
            "{:.1}",
            args.threads as f64 / time::secs_f64(r)
        )
        .replace(".0", "")),
        api = args.api,
        category = args.category,
        response = args.response,
        duration = args.duration,
        file = args.file.display(),
    );
    // Checked as any scenario is, so a bad flag is an error at its key, and nothing is written.
    Scenario::parse(&text, &args.file.display().to_string())
        .map_err(|e| Error::BadInput(format!("the flags make an invalid scenario: {}: {}", e.key, e.message)))?;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&args.file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::BadInput(format!("{} exists; quotasim init writes only a new file", args.file.display()))
        } else {
            Error::Write { path: args.file.display().to_string(), source: e }
        }
    })?;
    use std::io::Write;
    file.write_all(text.as_bytes()).map_err(|e| Error::Write { path: args.file.display().to_string(), source: e })?;
    out(&format!("wrote {}; run it with: quotasim run {}\n", args.file.display(), args.file.display()))
}
