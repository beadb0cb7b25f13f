//! The fixed window: at most the limit × the window admissions per window; nothing carries over between
//! windows; an attempt over the limit is rejected at once (not queued). The platform's rule, with 1 s
//! windows on the clock. Whether rejected attempts count makes no difference here.

use super::{Align, KeyError, Rule, RuleConfig, RuleKeys};
use crate::time::Nanos;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub window: Nanos,
    pub align: Align,
}

impl RuleConfig for Config {
    type State = FixedWindow;
    const NAME: &'static str = "fixed-window";
    const KEYS: &'static [&'static str] = &["window", "align", "count_rejected", "windows"];

    fn read(keys: &RuleKeys<'_>) -> Result<Config, KeyError> {
        let text = keys.align.unwrap_or("clock");
        let align = Align::NAMES.iter().find(|(n, _)| *n == text).map(|(_, a)| *a).ok_or_else(|| {
            let message = format!("`{text}` is not valid; expected one of `clock`, `first-call`");
            KeyError { key: "align", message: crate::text::with_hint(message, text, Align::NAMES.map(|(n, _)| n)) }
        })?;
        Ok(Config { window: keys.window, align })
    }

    fn window(&self) -> Nanos {
        self.window
    }

    fn is_windowed(&self) -> bool {
        true
    }

    fn with_window(&self, window: Nanos) -> Config {
        Config { window, ..*self }
    }

    fn clock_aligned(&self) -> bool {
        self.align == Align::Clock
    }

    fn start(&self, phase: Nanos, _limit_qps: u32, capacity: u64) -> FixedWindow {
        FixedWindow::new(self.window, self.align, phase, capacity)
    }
}

/// Fixed-window counter. `phase` shifts simulated time onto the wall clock so that clock-aligned windows
/// start on absolute multiples of the window even when the scenario starts mid-second.
#[derive(Clone, Debug)]
pub struct FixedWindow {
    window: Nanos,
    phase: Nanos,
    align: Align,
    capacity: u64,
    window_end: Nanos,
    count: u64,
}

impl FixedWindow {
    pub fn new(window: Nanos, align: Align, phase: Nanos, capacity: u64) -> FixedWindow {
        FixedWindow { window, phase: phase % window, align, capacity, window_end: 0, count: 0 }
    }

    fn open_window(&mut self, now: Nanos) {
        self.window_end = match self.align {
            Align::Clock => ((now + self.phase) / self.window + 1) * self.window - self.phase,
            Align::FirstCall => now + self.window,
        };
        self.count = 0;
    }
}

impl Rule for FixedWindow {
    #[inline]
    fn try_admit(&mut self, now: Nanos) -> Option<Nanos> {
        if now >= self.window_end {
            self.open_window(now);
        }
        if self.count < self.capacity {
            self.count += 1;
            Some(0)
        } else {
            None
        }
    }

    /// Now if the window has room, else the start of the next window (which starts empty).
    fn next_admit(&mut self, now: Nanos) -> Nanos {
        if now >= self.window_end {
            self.open_window(now);
        }
        if self.count < self.capacity { now } else { self.window_end }
    }

    fn set(&mut self, _now: Nanos, _limit_qps: u32, capacity: u64, reset: bool) {
        self.capacity = capacity;
        if reset {
            self.count = 0;
        }
    }
}
