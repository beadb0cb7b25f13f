//! Distributions, read once whatever they draw: response and think times (durations) and request costs
//! (units, or a trace's columns).

use super::*;

impl Ctx<'_> {
    /// A response or think time: a distribution of durations.
    pub(super) fn dist(&self, key: &str, raw: &RawDist) -> Result<Dist> {
        let present = [
            ("dist", true),
            ("mean", raw.mean.is_some()),
            ("sigma", raw.sigma.is_some()),
            ("min", raw.min.is_some()),
            ("max", raw.max.is_some()),
        ];
        let value = |field: &str| -> Result<Option<Nanos>> {
            let text = match field {
                "mean" => &raw.mean,
                "min" => &raw.min,
                _ => &raw.max,
            };
            text.as_deref().map(|t| self.duration(&format!("{key}.{field}"), t)).transpose()
        };
        self.distribution(key, &raw.dist, "", &present, value, raw.sigma)
    }

    /// The one reader of the four distributions, whatever they draw (durations, units): `kind` names it,
    /// `present` says which keys were written, `value` reads a field's value, `sigma` is lognormal's.
    /// `what` follows the kind in messages (" cost").
    pub(super) fn distribution(
        &self,
        key: &str,
        kind: &str,
        what: &str,
        present: &[(&str, bool)],
        value: impl Fn(&str) -> Result<Option<u64>>,
        sigma: Option<f64>,
    ) -> Result<Dist> {
        #[derive(Clone, Copy)]
        enum Kind {
            Constant,
            Exponential,
            Lognormal,
            Uniform,
        }
        let kinds = [
            ("constant", Kind::Constant),
            ("exponential", Kind::Exponential),
            ("lognormal", Kind::Lognormal),
            ("uniform", Kind::Uniform),
        ];
        let k = self.one_of(&format!("{key}.dist"), kind, &kinds)?;
        let takes: &[&str] = match k {
            Kind::Constant | Kind::Exponential => &["dist", "mean"],
            Kind::Lognormal => &["dist", "mean", "sigma"],
            Kind::Uniform => &["dist", "min", "max"],
        };
        self.takes_only(key, &format!("`{kind}`{what}"), present, takes)?;
        let need = |field: &str| -> Result<u64> {
            value(field)?.ok_or_else(|| self.err(key, format!("`{kind}`{what} needs `{field}`")))
        };
        Ok(match k {
            Kind::Constant => Dist::Constant(need("mean")?),
            Kind::Exponential => Dist::Exponential { mean: need("mean")? },
            Kind::Lognormal => {
                let mean = need("mean")?;
                let sigma = sigma.ok_or_else(|| {
                    self.err(
                        key,
                        format!("`lognormal`{what} needs `sigma` (the log-space standard deviation, e.g. 0.5)"),
                    )
                })?;
                Dist::lognormal(mean, sigma).map_err(|m| self.err(&format!("{key}.sigma"), m))?
            }
            Kind::Uniform => {
                let (min, max) = (need("min")?, need("max")?);
                if min > max {
                    return Err(self.err(&format!("{key}.max"), "must not be below `min`"));
                }
                Dist::Uniform { min, max }
            }
        })
    }

    /// A client's `cost`: a whole number of units, a distribution of them, or (trace clients) the sum of
    /// some columns.
    pub(super) fn cost(&self, key: &str, value: &toml::Value, trace: bool) -> Result<Cost> {
        const EXPECTED: &str = "expected a whole number of units (e.g. `cost = 800`), a distribution (`{ dist = \
            \"lognormal\", mean = 800, sigma = 1 }`) or, for a trace, columns to add (`{ fields = \
            [\"ContextTokens\", \"GeneratedTokens\"] }`)";
        let units = |k: &str, v: &toml::Value| -> Result<u64> {
            match v {
                toml::Value::Integer(n) if (0..=MAX_UNITS as i64).contains(n) => Ok(*n as u64),
                toml::Value::Float(f) if f.is_finite() && (0.0..=MAX_UNITS as f64).contains(f) => Ok(f.round() as u64),
                other => Err(self.err(k, format!("{other} is not valid; expected units from 0 to {MAX_UNITS}"))),
            }
        };
        let toml::Value::Table(table) = value else {
            return match value {
                toml::Value::Integer(_) => Ok(Cost::Units(units(key, value)?)),
                other => Err(self.err(key, format!("{other} is not valid; {EXPECTED}"))),
            };
        };
        if let Some(fields) = table.get("fields") {
            if let Some(other) = table.keys().find(|k| *k != "fields") {
                return Err(self.err(&format!("{key}.{other}"), "a cost from columns takes only `fields`"));
            }
            if !trace {
                return Err(self.err(
                    &format!("{key}.fields"),
                    "only a `trace` client reads costs from columns; give a number or a distribution",
                ));
            }
            let names: Option<Vec<String>> = fields
                .as_array()
                .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<Vec<_>>>());
            return match names {
                Some(names) if (1..=8).contains(&names.len()) => Ok(Cost::Columns(names)),
                _ => Err(self.err(
                    &format!("{key}.fields"),
                    "expected a list of 1 to 8 column names, e.g. [\"ContextTokens\", \"GeneratedTokens\"]",
                )),
            };
        }
        let kind = match table.get("dist") {
            Some(toml::Value::String(d)) => d.as_str(),
            _ => return Err(self.err(key, format!("needs `dist` or `fields`; {EXPECTED}"))),
        };
        let present: Vec<(&str, bool)> = table.keys().map(|k| (k.as_str(), true)).collect();
        let value = |field: &str| table.get(field).map(|v| units(&format!("{key}.{field}"), v)).transpose();
        let sigma = match table.get("sigma") {
            Some(toml::Value::Float(f)) => Some(*f),
            Some(toml::Value::Integer(n)) => Some(*n as f64),
            _ => None,
        };
        let dist = self.distribution(key, kind, " cost", &present, value, sigma)?;
        Ok(Cost::Drawn(dist))
    }
}
