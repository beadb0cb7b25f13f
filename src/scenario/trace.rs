//! Validation of a trace client's `trace` table. Delimited files have their header read here, so a column
//! that is not in the file is reported at its line in the scenario.

use super::raw::{RawClient, RawTrace};
use super::{Ctx, Result};
use crate::time::NANOS_PER_SEC;
use crate::workload::Cost;
use crate::workload::trace::{ACCESS_LOG_FIELDS, ApiMapping, Format, TraceSpec, api_names, header, reading};
use std::collections::HashMap;
use std::path::Path;

impl Ctx<'_> {
    /// The trace spec of client `key`; `api_index` resolves API names; `base` is the scenario's folder.
    pub(super) fn trace_spec(
        &self,
        key: &str,
        c: &RawClient,
        api_index: &HashMap<&str, usize>,
        base: &Path,
    ) -> Result<TraceSpec> {
        let t: &RawTrace = c
            .trace
            .as_ref()
            .ok_or_else(|| self.err(key, "a `trace` client needs `trace = { path = \"...\", ... }`"))?;
        let k = |f: &str| format!("{key}.trace.{f}");
        if c.mix.is_some() {
            return Err(self.err(
                &format!("{key}.mix"),
                "a trace's rows name their API: use `api` or `trace.api_field`, not `mix`",
            ));
        }
        let path = base.join(&t.path);
        if !path.is_file() {
            return Err(self.err(
                &k("path"),
                format!("`{}` is not a readable file (paths are relative to the scenario's folder)", path.display()),
            ));
        }
        let (format, time_format) = reading(&path, t.format.as_deref(), t.time_format.as_deref(), t.zone.as_deref())
            .map_err(|(field, message)| self.err(&k(field), message))?;
        let api = match (&c.api, &t.api_field) {
            (Some(name), None) => {
                if t.api_rules.is_some() || t.api_default.is_some() {
                    return Err(
                        self.err(&k("api_rules"), "rules map `api_field`; with a constant `api` leave them out")
                    );
                }
                ApiMapping::Constant(self.api_named(&format!("{key}.api"), name, api_index)?)
            }
            (None, Some(field)) => {
                let mut rules = Vec::new();
                for (i, r) in t.api_rules.iter().flatten().enumerate() {
                    rules.push((
                        r.prefix.clone(),
                        self.api_named(&format!("{key}.trace.api_rules[{i}].api"), &r.api, api_index)?,
                    ));
                }
                let default =
                    t.api_default.as_deref().map(|n| self.api_named(&k("api_default"), n, api_index)).transpose()?;
                let names = api_names(api_index.iter().map(|(n, i)| (*n, *i)));
                ApiMapping::Field { field: field.clone(), rules, default, names }
            }
            _ => return Err(self.err(
                key,
                "a `trace` client needs exactly one of `api = \"Name\"` (every row) or `trace.api_field` (a column)",
            )),
        };
        let latency = match (&t.latency_field, t.latency_unit.as_deref()) {
            (None, None) => None,
            (None, Some(_)) => return Err(self.err(&k("latency_unit"), "goes with `latency_field`")),
            (Some(field), unit) => {
                let units = [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", NANOS_PER_SEC as f64)];
                let unit = self.one_of(&k("latency_unit"), unit.unwrap_or("ms"), &units)?;
                Some((field.clone(), unit))
            }
        };
        let speed = t.speed.unwrap_or(1.0);
        if !(speed.is_finite() && speed > 0.0) {
            return Err(
                self.err(&k("speed"), format!("{speed} is not valid; expected a factor > 0 (2: twice as fast)"))
            );
        }
        let time = t.time.clone().unwrap_or_else(|| "time".to_string());
        let cost = match c.cost.as_ref().map(|v| self.cost(&format!("{key}.cost"), v, true)).transpose()? {
            Some(Cost::Columns(columns)) => columns,
            _ => Vec::new(),
        };
        let spec = TraceSpec {
            path,
            format,
            time,
            time_format,
            caller: t.caller.clone(),
            api,
            latency,
            cost,
            shift: t.shift.unwrap_or(true),
            speed,
        };
        self.check_fields(key, t, &spec)?;
        Ok(spec)
    }

    fn api_named(&self, key: &str, name: &str, api_index: &HashMap<&str, usize>) -> Result<usize> {
        api_index.get(name).copied().ok_or_else(|| self.err(key, format!("no [[api]] is named `{name}`")))
    }

    /// Every named column is in a delimited file's header, every access-log field is one it has.
    fn check_fields(&self, key: &str, t: &RawTrace, spec: &TraceSpec) -> Result<()> {
        let api_field = match &spec.api {
            ApiMapping::Field { field, .. } => Some(field.as_str()),
            ApiMapping::Constant(_) => None,
        };
        let mut named = vec![
            ("trace.time", t.time.as_deref().or(Some(spec.time.as_str())).filter(|_| spec.format != Format::AccessLog)),
            ("trace.caller", spec.caller.as_deref()),
            ("trace.api_field", api_field),
            ("trace.latency_field", spec.latency.as_ref().map(|l| l.0.as_str())),
        ];
        named.extend(spec.cost.iter().map(|c| ("cost.fields", Some(c.as_str()))));
        match spec.format {
            Format::Delimited(delimiter) => {
                let columns = header(&spec.path, delimiter)
                    .map_err(|m| self.err(&format!("{key}.trace.path"), format!("cannot read its header: {m}")))?;
                for (field, name) in named.iter().filter_map(|(f, n)| n.map(|n| (f, n))) {
                    if !columns.iter().any(|c| c == name) {
                        return Err(self.err(
                            &format!("{key}.{field}"),
                            format!("no column `{name}`; the header has {}", columns.join(", ")),
                        ));
                    }
                }
            }
            Format::AccessLog => {
                // An access log's time is its `[date]` field, in its own zone: a column or format for it would
                // be ignored, so it is refused.
                for (field, given) in [("time", t.time.is_some()), ("time_format", t.time_format.is_some())] {
                    if given {
                        return Err(self.err(
                            &format!("{key}.trace.{field}"),
                            "an access log's time is its `[date]` field; remove this key",
                        ));
                    }
                }
                for (field, name) in named.iter().filter_map(|(f, n)| n.map(|n| (f, n))) {
                    if !ACCESS_LOG_FIELDS.contains(&name) {
                        return Err(self.err(
                            &format!("{key}.{field}"),
                            format!("an access log has no field `{name}`; it has {}", ACCESS_LOG_FIELDS.join(", ")),
                        ));
                    }
                }
            }
            Format::JsonLines => {}
        }
        Ok(())
    }
}
