//! `run --fail-if`: thresholds on a run's metrics, in the `advise` target syntax with any comparison
//! (`throttle_rate>1%`, `acme/CompareFace:latency_p99>=3s`), so a scenario can guard a deployment in CI.

use crate::report::Summary;

/// One threshold: the run fails when `metric` (of the totals, or of one account/API) compares to `bound`
/// as `op` says.
#[derive(Clone, Debug)]
pub struct Threshold {
    pub text: String,
    pub scope: Option<(String, String)>,
    pub metric: String,
    pub op: Op,
    pub bound: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Above,
    AtLeast,
    Below,
    AtMost,
}

impl Op {
    fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Above => value > bound,
            Op::AtLeast => value >= bound,
            Op::Below => value < bound,
            Op::AtMost => value <= bound,
        }
    }
}

/// Reads `[ACCOUNT/API:]METRIC OP VALUE` with OP one of `>`, `>=`, `<`, `<=`; the metric and value as
/// `advise --target` reads them (a percentage, a number, a duration for the `_s` metrics).
pub fn parse(text: &str) -> Result<Threshold, String> {
    let (at, op, len) = [(">=", Op::AtLeast), ("<=", Op::AtMost), (">", Op::Above), ("<", Op::Below)]
        .iter()
        .find_map(|(sym, op)| text.find(sym).map(|at| (at, *op, sym.len())))
        .ok_or_else(|| format!("--fail-if `{text}`: expected METRIC>VALUE (or >=, <, <=), e.g. `throttle_rate>1%`"))?;
    // The advise parser checks the scope, the metric and the value; only the comparison is ours.
    let cmp = if matches!(op, Op::Above | Op::AtLeast) { ">=" } else { "<=" };
    let as_target = format!("{}{cmp}{}", &text[..at], &text[at + len..]);
    let t = crate::advise::parse_target(&as_target)
        .map_err(|m| m.replacen(&format!("--target `{as_target}`"), &format!("--fail-if `{text}`"), 1))?;
    Ok(Threshold { text: text.to_string(), scope: t.scope, metric: t.metric, op, bound: t.bound })
}

/// The thresholds `summary` crosses, each with the value it had; an error when a scope names no pair the
/// run has or a metric the run does not measure.
pub fn crossed(thresholds: &[Threshold], summary: &Summary) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for t in thresholds {
        let metrics = match &t.scope {
            None => &summary.totals,
            Some((account, api)) => summary
                .by_api
                .iter()
                .find(|e| &e.account == account && &e.api == api)
                .map(|e| &e.metrics)
                .ok_or_else(|| format!("--fail-if `{}`: no client calls {account}/{api}", t.text))?,
        };
        let v = crate::advise::metric_value(metrics, &t.metric)
            .ok_or_else(|| format!("--fail-if `{}`: this run has no `{}` (no unit limit)", t.text, t.metric))?;
        if t.op.holds(v, t.bound) {
            out.push((t.text.clone(), v));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_parse_and_hold() {
        let t = parse("throttle_rate>1%").unwrap();
        assert_eq!((t.op, t.bound, t.metric.as_str()), (Op::Above, 0.01, "throttle_rate"));
        let t = parse("acme/CompareFace:latency_p99>=3s").unwrap();
        assert_eq!(t.scope, Some(("acme".into(), "CompareFace".into())));
        assert_eq!((t.op, t.bound, t.metric.as_str()), (Op::AtLeast, 3.0, "latency_p99_s"));
        assert_eq!(parse("admitted<10").unwrap().op, Op::Below);
        assert!(Op::Above.holds(0.02, 0.01) && !Op::Above.holds(0.01, 0.01) && Op::AtLeast.holds(0.01, 0.01));
        assert!(parse("throttle_rate=1%").unwrap_err().contains("expected METRIC>VALUE"));
        assert!(parse("throtle_rate>1%").unwrap_err().contains("--fail-if `throtle_rate>1%`"));
    }
}
