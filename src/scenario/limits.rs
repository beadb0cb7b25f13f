//! The limiter of `[server]` or an `[[api]]`: its kind and keys from the limiters' own table (see
//! `quota::limiter`), its windows, and a unit (token) limit.

use super::*;

impl Ctx<'_> {
    /// A limiter from the keys of `[server]` or of an `[[api]]` (`key` names the table).
    pub(super) fn limiter_spec(&self, key: &str, s: raw::LimiterKeys<'_>) -> Result<LimiterSpec> {
        use crate::quota::limiter::{KINDS, RuleKeys};
        let k = |f: &str| format!("{key}.{f}");
        // The kinds and the keys each takes come from the limiters' own table.
        let names: Vec<(&str, usize)> = KINDS.iter().enumerate().map(|(i, kind)| (kind.name, i)).collect();
        let kind = &KINDS[self.one_of(&k("limiter"), s.limiter.unwrap_or("fixed-window"), &names)?];
        self.takes_only(key, &format!("limiter `{}`", kind.name), &s.present(), kind.keys)?;
        let limit = |i: usize, l: Option<i64>| {
            let message = |n| {
                format!(
                    "{n} is not valid; expected the calls a window admits, 1 to 10^12 (or leave it out: the plan's \
                        QPS times the window)"
                )
            };
            match l {
                None => Ok(None),
                Some(n) if (1..=1_000_000_000_000).contains(&n) => Ok(Some(n as u64)),
                Some(n) => Err(self.err(&k(&format!("windows[{i}].limit")), message(n))),
            }
        };
        let (window, first_limit, more) = match s.windows {
            None => {
                let w = s.window.map_or(Ok(NANOS_PER_SEC), |w| self.positive_duration(&k("window"), w))?;
                (w, None, Vec::new())
            }
            Some(_) if s.window.is_some() => {
                return Err(self.err(&k("windows"), "give `window` or `windows`, not both"));
            }
            Some([]) => return Err(self.err(&k("windows"), "is empty; list at least one { window = \"1s\" }")),
            Some(list) => {
                let mut parsed = Vec::with_capacity(list.len());
                for (i, w) in list.iter().enumerate() {
                    let window = self.positive_duration(&k(&format!("windows[{i}].window")), &w.window)?;
                    if parsed.iter().any(|p: &WindowLimit| p.window == window) {
                        return Err(self.err(
                            &k(&format!("windows[{i}].window")),
                            format!("`{}` is listed twice; give each window once", w.window),
                        ));
                    }
                    parsed.push(WindowLimit { window, limit: limit(i, w.limit)? });
                }
                let first = parsed.remove(0);
                (first.window, first.limit, parsed)
            }
        };
        let keys =
            RuleKeys { window, align: s.align, count_rejected: s.count_rejected, burst: s.burst, nodelay: s.nodelay };
        let rule = (kind.read)(&keys).map_err(|e| self.err(&k(e.key), e.message))?;
        Ok(LimiterSpec { rule, limit: first_limit, more, units: None })
    }

    pub(super) fn units(&self, key: &str, u: &raw::RawUnits) -> Result<UnitLimit> {
        if !(1..=1_000_000_000_000_000).contains(&u.limit) {
            return Err(self.err(
                &format!("{key}.limit"),
                format!("{} is not valid; expected the units a window allows, 1 to 10^15", u.limit),
            ));
        }
        let window = u
            .window
            .as_deref()
            .map_or(Ok(60 * NANOS_PER_SEC), |w| self.positive_duration(&format!("{key}.window"), w))?;
        Ok(UnitLimit { limit: u.limit as u64, window })
    }
}
