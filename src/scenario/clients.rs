//! A `[[client]]`'s model: closed threads, open arrivals and their shape, a batch, or a trace.

use super::*;

impl Ctx<'_> {
    pub(super) fn client_model(
        &self,
        key: &str,
        c: &raw::RawClient,
        (start, offset): (Timestamp, Offset),
        api_index: &HashMap<&str, usize>,
        base: &Path,
    ) -> Result<ClientModel> {
        const CLOSED: &[&str] = &["threads", "think", "ramp_up"];
        const BATCH: &[&str] = &["threads", "requests", "think", "ramp_up"];
        const OPEN: &[&str] = &["rate", "arrivals", "shape", "stages", "amplitude", "peak", "on", "off"];
        let present = [
            ("threads", c.threads.is_some()),
            ("think", c.think.is_some()),
            ("ramp_up", c.ramp_up.is_some()),
            ("requests", c.requests.is_some()),
            ("rate", c.rate.is_some()),
            ("arrivals", c.arrivals.is_some()),
            ("shape", c.shape.is_some()),
            ("stages", c.stages.is_some()),
            ("amplitude", c.amplitude.is_some()),
            ("peak", c.peak.is_some()),
            ("on", c.on.is_some()),
            ("off", c.off.is_some()),
        ];
        #[derive(Clone, Copy, PartialEq)]
        enum Model {
            Closed,
            Open,
            Batch,
            Trace,
        }
        let models =
            [("closed", Model::Closed), ("open", Model::Open), ("batch", Model::Batch), ("trace", Model::Trace)];
        let model = self.one_of(&format!("{key}.model"), &c.model, &models)?;
        let allowed: &[&str] = match model {
            Model::Closed => CLOSED,
            Model::Open => OPEN,
            Model::Batch => BATCH,
            Model::Trace => &[],
        };
        if let Some((field, _)) = present.iter().find(|(f, on)| *on && !allowed.contains(f)) {
            // A trace client's timing comes from its file: its only model key is the `trace` table.
            let takes = if allowed.is_empty() { "only a `trace` table".to_string() } else { allowed.join(", ") };
            return Err(self.err(
                &format!("{key}.{field}"),
                format!("a `{}` client takes no `{field}`; it takes {takes}", c.model),
            ));
        }
        if c.trace.is_some() && model != Model::Trace {
            return Err(self.err(&format!("{key}.trace"), format!("a `{}` client takes no `trace`", c.model)));
        }
        match model {
            Model::Open => return self.open_model(key, c, start, offset),
            Model::Trace => return Ok(ClientModel::Trace(Box::new(self.trace_spec(key, c, api_index, base)?))),
            Model::Closed | Model::Batch => {}
        }
        let threads = c.threads.ok_or_else(|| {
            self.err(key, format!("a `{}` client needs `threads` (how many callers send concurrently)", c.model))
        })?;
        if !(1..=MAX_THREADS).contains(&threads) {
            return Err(self.err(
                &format!("{key}.threads"),
                format!("{threads} is not valid; expected a whole number from 1 to {MAX_THREADS}"),
            ));
        }
        let think = c.think.as_ref().map_or(Ok(Dist::Constant(0)), |d| self.dist(&format!("{key}.think"), d))?;
        let ramp_up = c.ramp_up.as_deref().map_or(Ok(0), |r| self.duration(&format!("{key}.ramp_up"), r))?;
        let threads = threads as u32;
        if model == Model::Closed {
            return Ok(ClientModel::Closed { threads, think, ramp_up });
        }
        let requests =
            c.requests.ok_or_else(|| self.err(key, "a `batch` client needs `requests` (the backlog to work off)"))?;
        if requests < 1 {
            return Err(self.err(
                &format!("{key}.requests"),
                format!("{requests} is not valid; expected a backlog of at least 1 request"),
            ));
        }
        Ok(ClientModel::Batch { threads, requests: requests as u64, think, ramp_up })
    }

    pub(super) fn rate(&self, key: &str, rate: f64) -> Result<f64> {
        if rate.is_finite() && (0.0..=1e9).contains(&rate) {
            Ok(rate)
        } else {
            Err(self.err(key, format!("{rate} is not valid; expected requests per second, from 0 to 1e9")))
        }
    }

    pub(super) fn open_model(
        &self,
        key: &str,
        c: &raw::RawClient,
        start: Timestamp,
        offset: Offset,
    ) -> Result<ClientModel> {
        let field = |f: &str| format!("{key}.{f}");
        let needs = |what: &str, f: &str| self.err(key, format!("a `{what}` open client needs `{f}`"));
        let shape_name = c.shape.as_deref().unwrap_or("flat");
        let only = |fields: &[(&str, bool)]| -> Result<()> {
            match fields.iter().find(|(_, on)| *on) {
                Some((f, _)) => Err(self.err(&field(f), format!("shape `{shape_name}` takes no `{f}`"))),
                None => Ok(()),
            }
        };
        #[derive(Clone, Copy, PartialEq)]
        enum Shape {
            Flat,
            Ramp,
            Daily,
            OnOff,
        }
        let shapes = [("flat", Shape::Flat), ("ramp", Shape::Ramp), ("daily", Shape::Daily), ("on-off", Shape::OnOff)];
        let kind = self.one_of(&field("shape"), shape_name, &shapes)?;
        let (stages, amp, peak, on, off) =
            (c.stages.is_some(), c.amplitude.is_some(), c.peak.is_some(), c.on.is_some(), c.off.is_some());
        let shape = match kind {
            Shape::Flat => {
                only(&[("stages", stages), ("amplitude", amp), ("peak", peak), ("on", on), ("off", off)])?;
                let rate =
                    self.rate(&field("rate"), c.rate.ok_or_else(|| needs("flat", "rate (requests per second)"))?)?;
                RateShape::Flat(rate)
            }
            Shape::Ramp => {
                only(&[("amplitude", amp), ("peak", peak), ("on", on), ("off", off)])?;
                let start_rate = c.rate.map_or(Ok(0.0), |r| self.rate(&field("rate"), r))?;
                let raw = c
                    .stages
                    .as_ref()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| needs("ramp", "stages = [{ duration = \"1m\", rate = 10 }, ...]"))?;
                let (mut end, mut out) = (0u64, Vec::with_capacity(raw.len()));
                for (i, st) in raw.iter().enumerate() {
                    end = end
                        .saturating_add(self.positive_duration(&format!("{key}.stages[{i}].duration"), &st.duration)?);
                    out.push((end, self.rate(&format!("{key}.stages[{i}].rate"), st.rate)?));
                }
                RateShape::Ramp { start: start_rate, stages: out }
            }
            Shape::Daily => {
                only(&[("stages", stages), ("on", on), ("off", off)])?;
                let mean =
                    self.rate(&field("rate"), c.rate.ok_or_else(|| needs("daily", "rate (the mean over a day)"))?)?;
                let amplitude = c.amplitude.ok_or_else(|| needs("daily", "amplitude (0 to 1)"))?;
                if !(0.0..=1.0).contains(&amplitude) {
                    return Err(self
                        .err(&field("amplitude"), format!("{amplitude} is not valid; expected a number from 0 to 1")));
                }
                let peak = match c.peak.as_deref() {
                    None => 12 * 3_600 * NANOS_PER_SEC,
                    Some(text) => time_of_day(text).ok_or_else(|| {
                        self.err(&field("peak"), format!("`{text}` is not a time of day like `14:00`"))
                    })?,
                };
                let local = TimeZone::fixed(offset).to_datetime(start).time();
                RateShape::Daily { mean, amplitude, peak, day_start: nanos_of_day(local) }
            }
            Shape::OnOff => {
                only(&[("stages", stages), ("amplitude", amp), ("peak", peak)])?;
                let rate = self.rate(&field("rate"), c.rate.ok_or_else(|| needs("on-off", "rate (during bursts)"))?)?;
                let on = self.positive_duration(
                    &field("on"),
                    c.on.as_deref().ok_or_else(|| needs("on-off", "on (how long a burst lasts)"))?,
                )?;
                let off = self.duration(
                    &field("off"),
                    c.off.as_deref().ok_or_else(|| needs("on-off", "off (the pause between bursts)"))?,
                )?;
                RateShape::OnOff { rate, on, off }
            }
        };
        if shape.max_rate() <= 0.0 {
            return Err(self.err(&field("rate"), "the client would never send: its rate must be above 0 at some time"));
        }
        let arrivals = self.one_of(
            &field("arrivals"),
            c.arrivals.as_deref().unwrap_or("poisson"),
            &[("poisson", Arrivals::Poisson), ("constant", Arrivals::Constant)],
        )?;
        if arrivals == Arrivals::Constant && kind != Shape::Flat {
            return Err(self.err(
                &field("arrivals"),
                format!(
                    "shape `{shape_name}` needs `arrivals = \"poisson\"`; evenly spaced arrivals go with a flat rate"
                ),
            ));
        }
        Ok(ClientModel::Open { shape, arrivals })
    }
}

/// `14:00` or `14:00:30` as nanoseconds since midnight.
pub(super) fn time_of_day(text: &str) -> Option<Nanos> {
    text.trim().parse::<jiff::civil::Time>().ok().map(nanos_of_day)
}

pub(super) fn nanos_of_day(t: jiff::civil::Time) -> Nanos {
    let secs = t.hour() as u64 * 3_600 + t.minute() as u64 * 60 + t.second() as u64;
    secs * NANOS_PER_SEC + t.subsec_nanosecond() as u64
}
