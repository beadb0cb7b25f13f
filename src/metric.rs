//! The metrics a run reports, as a type: each with its name (as `summary.json` and `summary.csv` spell
//! it), its unit and which way is better. Files, sweeps, advice targets and `--fail-if` thresholds name
//! metrics through it, so a metric is spelled once.

use crate::stats::Metrics;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    Requests,
    Attempts,
    Admitted,
    Throttled,
    GaveUp,
    Unfinished,
    BudgetRefused,
    Dropped,
    RejectedLocally,
    ThrottleRate,
    OfferedQps,
    AdmittedQps,
    AttemptsPerRequest,
    LatencyMean,
    LatencyP50,
    LatencyP90,
    LatencyP99,
    LatencyMax,
    QueuedMean,
    QueuedP50,
    QueuedP99,
    QueuedMax,
    UnitsAdmitted,
    UnitsThrottled,
    ThrottledByUnits,
}

/// What a metric counts or measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A whole number of requests, attempts or units.
    Count,
    /// A share from 0 to 1 (shown as a percentage).
    Share,
    PerSecond,
    Seconds,
    /// Attempts per request.
    Ratio,
}

/// Which way a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
    /// Neither: a count of what was asked (requests, attempts), not of how it went.
    Neither,
}

impl Metric {
    /// Every metric every entry has, in the order of `summary.csv`'s columns.
    pub const FLAT: [Metric; 22] = [
        Metric::Requests,
        Metric::Attempts,
        Metric::Admitted,
        Metric::Throttled,
        Metric::GaveUp,
        Metric::Unfinished,
        Metric::BudgetRefused,
        Metric::Dropped,
        Metric::RejectedLocally,
        Metric::ThrottleRate,
        Metric::OfferedQps,
        Metric::AdmittedQps,
        Metric::AttemptsPerRequest,
        Metric::LatencyMean,
        Metric::LatencyP50,
        Metric::LatencyP90,
        Metric::LatencyP99,
        Metric::LatencyMax,
        Metric::QueuedMean,
        Metric::QueuedP50,
        Metric::QueuedP99,
        Metric::QueuedMax,
    ];

    /// The metrics of a unit (token) limit, present only where one is set.
    pub const UNITS: [Metric; 3] = [Metric::UnitsAdmitted, Metric::UnitsThrottled, Metric::ThrottledByUnits];

    /// Every metric: [`Metric::FLAT`], then [`Metric::UNITS`].
    pub fn all() -> impl Iterator<Item = Metric> {
        Metric::FLAT.into_iter().chain(Metric::UNITS)
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Requests => "requests",
            Metric::Attempts => "attempts",
            Metric::Admitted => "admitted",
            Metric::Throttled => "throttled",
            Metric::GaveUp => "gave_up",
            Metric::Unfinished => "unfinished",
            Metric::BudgetRefused => "budget_refused",
            Metric::Dropped => "dropped",
            Metric::RejectedLocally => "rejected_locally",
            Metric::ThrottleRate => "throttle_rate",
            Metric::OfferedQps => "offered_qps",
            Metric::AdmittedQps => "admitted_qps",
            Metric::AttemptsPerRequest => "attempts_per_request",
            Metric::LatencyMean => "latency_mean_s",
            Metric::LatencyP50 => "latency_p50_s",
            Metric::LatencyP90 => "latency_p90_s",
            Metric::LatencyP99 => "latency_p99_s",
            Metric::LatencyMax => "latency_max_s",
            Metric::QueuedMean => "queued_mean_s",
            Metric::QueuedP50 => "queued_p50_s",
            Metric::QueuedP99 => "queued_p99_s",
            Metric::QueuedMax => "queued_max_s",
            Metric::UnitsAdmitted => "units_admitted",
            Metric::UnitsThrottled => "units_throttled",
            Metric::ThrottledByUnits => "throttled_by_units",
        }
    }

    /// The metric of that name, if there is one.
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::all().find(|m| m.name() == name)
    }

    pub fn unit(self) -> Unit {
        use Metric::*;
        match self {
            ThrottleRate => Unit::Share,
            OfferedQps | AdmittedQps => Unit::PerSecond,
            AttemptsPerRequest => Unit::Ratio,
            LatencyMean | LatencyP50 | LatencyP90 | LatencyP99 | LatencyMax | QueuedMean | QueuedP50 | QueuedP99
            | QueuedMax => Unit::Seconds,
            _ => Unit::Count,
        }
    }

    pub fn better(self) -> Better {
        use Metric::*;
        match self {
            Requests | Attempts | OfferedQps => Better::Neither,
            Admitted | AdmittedQps | UnitsAdmitted => Better::Higher,
            _ => Better::Lower,
        }
    }

    /// Its value in `m`; `None` for a unit metric where no unit limit is set.
    pub fn of(self, m: &Metrics) -> Option<f64> {
        let l = &m.latency_s;
        let q = &m.queued_s;
        Some(match self {
            Metric::Requests => m.requests as f64,
            Metric::Attempts => m.attempts as f64,
            Metric::Admitted => m.admitted as f64,
            Metric::Throttled => m.throttled as f64,
            Metric::GaveUp => m.gave_up as f64,
            Metric::Unfinished => m.unfinished as f64,
            Metric::BudgetRefused => m.budget_refused as f64,
            Metric::Dropped => m.dropped as f64,
            Metric::RejectedLocally => m.rejected_locally as f64,
            Metric::ThrottleRate => m.throttle_rate,
            Metric::OfferedQps => m.offered_qps,
            Metric::AdmittedQps => m.admitted_qps,
            Metric::AttemptsPerRequest => m.attempts_per_request,
            Metric::LatencyMean => l.mean,
            Metric::LatencyP50 => l.p50,
            Metric::LatencyP90 => l.p90,
            Metric::LatencyP99 => l.p99,
            Metric::LatencyMax => l.max,
            Metric::QueuedMean => q.mean,
            Metric::QueuedP50 => q.p50,
            Metric::QueuedP99 => q.p99,
            Metric::QueuedMax => q.max,
            Metric::UnitsAdmitted => m.units_admitted? as f64,
            Metric::UnitsThrottled => m.units_throttled? as f64,
            Metric::ThrottledByUnits => m.throttled_by_units? as f64,
        })
    }
}

/// Every metric of [`Metric::FLAT`] in `m` as (column name, value), in the order of `summary.csv`.
pub fn flat(m: &Metrics) -> [(&'static str, f64); 22] {
    Metric::FLAT.map(|k| (k.name(), k.of(m).unwrap_or(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        let names: std::collections::HashSet<&str> = Metric::all().map(Metric::name).collect();
        assert_eq!(names.len(), Metric::all().count());
        assert!(Metric::all().all(|m| Metric::parse(m.name()) == Some(m)));
        assert_eq!(Metric::parse("throtle_rate"), None);
        assert_eq!(Metric::ThrottleRate.better(), Better::Lower);
        assert_eq!(Metric::LatencyP99.unit(), Unit::Seconds);
    }
}
