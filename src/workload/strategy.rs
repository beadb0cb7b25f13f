//! What a client does about throttling, as the scenario states it: its retry policy and jitter, its retry
//! budget and whom it shares it with, and its client-side pacer. The engine's strategy hooks run them.

use super::Client;
use crate::rng::StreamRng;
use crate::time::Nanos;
use rand::RngExt;

/// How an exponential backoff spreads its waits (the names of the AWS Architecture Blog's "Exponential
/// Backoff and Jitter").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly `d`.
    None,
    /// Uniform on [0, d].
    Full,
    /// `d/2` plus uniform on [0, d/2].
    Equal,
    /// Uniform on [base, 3 × the previous wait], capped; the first previous wait is `base`.
    Decorrelated,
}

impl Jitter {
    pub const NAMES: [(&'static str, Jitter); 4] = [
        ("none", Jitter::None),
        ("full", Jitter::Full),
        ("equal", Jitter::Equal),
        ("decorrelated", Jitter::Decorrelated),
    ];
}

/// What a client does when an attempt is throttled. Every wait counts from the moment the throttle reply
/// reaches the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryPolicy {
    /// The request ends throttled (`gave_up`).
    None,
    /// Wait `wait`, then try again, up to `max_attempts` attempts in all (first one included).
    Fixed { wait: Nanos, max_attempts: u32 },
    /// Before the n-th retry wait about d_n = min(cap, base × multiplier^(n−1)), spread by `jitter`.
    Exponential { base: Nanos, multiplier: f64, cap: Nanos, max_attempts: u32, jitter: Jitter },
    /// Wait what the platform's reply says (until its limiter would next admit), plus uniform on [0, jitter].
    RetryAfter { jitter: Nanos, max_attempts: u32 },
    /// The backoff of Farkiani et al.: before the retry that follows the n-th attempt wait uniform on
    /// [0.1 s, min(2^n − 1 s, cap)]. With `limit`, window-based backoff (WB): no attempt leaves while the
    /// client has learned of `limit` successes within the last `window`. Without it, unlimited backoff (UB).
    Window { window: Nanos, limit: Option<u64>, cap: Nanos, max_attempts: u32 },
}

/// The shortest wait of [`RetryPolicy::Window`]'s backoff (the paper's 0.1 s).
pub const WINDOW_BACKOFF_FLOOR: Nanos = crate::time::NANOS_PER_SEC / 10;

/// What a retry wait may depend on besides the policy: the retry's number, the previous wait (for
/// decorrelated jitter) and the platform's retry-after hint.
#[derive(Clone, Copy, Debug, Default)]
pub struct RetryContext {
    /// Attempts made so far, the one just throttled included (so the coming retry is number `attempts`).
    pub attempts: u32,
    pub previous_wait: Nanos,
    /// How long after the throttled attempt the platform would next admit one.
    pub retry_after: Nanos,
}

fn uniform(rng: &mut StreamRng, lo: Nanos, hi: Nanos) -> Nanos {
    if hi <= lo { lo } else { rng.random_range(lo..=hi) }
}

impl RetryPolicy {
    /// The platform's advice: wait one second and retry. The cap of ten attempts is ours (documented).
    pub const PLATFORM_ADVICE: RetryPolicy = RetryPolicy::Fixed { wait: crate::time::NANOS_PER_SEC, max_attempts: 10 };

    /// The most attempts a request makes, the first included.
    pub fn max_attempts(&self) -> u32 {
        match *self {
            RetryPolicy::None => 1,
            RetryPolicy::Fixed { max_attempts, .. }
            | RetryPolicy::Exponential { max_attempts, .. }
            | RetryPolicy::RetryAfter { max_attempts, .. }
            | RetryPolicy::Window { max_attempts, .. } => max_attempts,
        }
    }

    /// The shortest and the longest wait before a retry (both 0 without retries); a retry-after wait is
    /// at most `window` plus its jitter.
    pub fn wait_range(&self, window: Nanos) -> (Nanos, Nanos) {
        match *self {
            RetryPolicy::None => (0, 0),
            RetryPolicy::Fixed { wait, .. } => (wait, wait),
            RetryPolicy::Exponential { base, cap, jitter, .. } => match jitter {
                Jitter::None | Jitter::Decorrelated => (base.min(cap), cap),
                Jitter::Full => (0, cap),
                Jitter::Equal => (base.min(cap) / 2, cap),
            },
            RetryPolicy::RetryAfter { jitter, .. } => (0, window.saturating_add(jitter)),
            RetryPolicy::Window { cap, .. } => (WINDOW_BACKOFF_FLOOR.min(cap), cap),
        }
    }

    /// Whether a request that has made `attempts_made` attempts may retry.
    #[inline]
    pub fn retries_after(&self, attempts_made: u32) -> bool {
        attempts_made < self.max_attempts()
    }

    /// The wait before the retry that follows `ctx.attempts` attempts (the caller has checked that one is
    /// allowed), drawing from `rng` for jitter.
    #[inline(always)]
    pub fn wait(&self, ctx: RetryContext, rng: &mut StreamRng) -> Nanos {
        match *self {
            RetryPolicy::None => 0,
            RetryPolicy::Fixed { wait, .. } => wait,
            RetryPolicy::Exponential { base, multiplier, cap, jitter, .. } => {
                let n = ctx.attempts.max(1) - 1;
                let d = (base as f64 * multiplier.powi(n.min(i32::MAX as u32) as i32)).min(cap as f64);
                let d = if d.is_finite() { d as Nanos } else { cap };
                match jitter {
                    Jitter::None => d,
                    Jitter::Full => uniform(rng, 0, d),
                    Jitter::Equal => d / 2 + uniform(rng, 0, d - d / 2),
                    Jitter::Decorrelated => {
                        let previous = if ctx.attempts <= 1 { base } else { ctx.previous_wait };
                        uniform(rng, base, previous.saturating_mul(3)).min(cap)
                    }
                }
            }
            RetryPolicy::RetryAfter { jitter, .. } => ctx.retry_after.saturating_add(uniform(rng, 0, jitter)),
            RetryPolicy::Window { cap, .. } => window_backoff(ctx.attempts, cap, rng),
        }
    }
}

/// [`RetryPolicy::Window`]'s wait after `attempts` attempts: U(0.1 s, min(2^n − 1 s, cap)). Apart, so that
/// [`RetryPolicy::wait`] stays small enough to be inlined where the others are used.
#[inline(never)]
fn window_backoff(attempts: u32, cap: Nanos, rng: &mut StreamRng) -> Nanos {
    // 2^n − 1 seconds, n the attempts so far; past 2^62 the cap has long been reached.
    let n = attempts.min(62);
    let top = ((1u64 << n) - 1).saturating_mul(crate::time::NANOS_PER_SEC).min(cap);
    uniform(rng, WINDOW_BACKOFF_FLOOR.min(top), top)
}

/// An allowance of retries, shared by every request in its scope: when it refuses, a retry that the policy
/// would make is not made and the request ends given up (`budget_refused`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// The AWS SDKs' standard retry quota: starts full at `capacity`; a retry takes `retry_cost` tokens
    /// (refused when fewer are left); every success gives back `success_refund`, up to `capacity`.
    TokenBucket { capacity: f64, retry_cost: f64, success_refund: f64 },
    /// gRPC retry throttling: starts at `max_tokens`; each throttled attempt takes 1 (down to 0), each
    /// success gives back `token_ratio` (up to `max_tokens`); retries only while tokens > max_tokens / 2.
    Ratio { max_tokens: f64, token_ratio: f64 },
}

/// Which requests share a budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BudgetScope {
    Client,
    SubAccount,
    Account,
}

impl BudgetScope {
    /// Who owns the state a request shares in this scope: its client, its sub-account or its account.
    pub fn owner(self, client: usize, sub_account: usize, account: usize) -> usize {
        match self {
            BudgetScope::Client => client,
            BudgetScope::SubAccount => sub_account,
            BudgetScope::Account => account,
        }
    }

    /// The first of `clients` that shares this scope with a client of (`sub_account`, `account`) but
    /// declares something else in it (`of` reads what a client declares).
    pub fn conflict<T: PartialEq + Copy>(
        self,
        mine: T,
        clients: &[Client],
        (sub_account, account): (usize, usize),
        of: impl Fn(&Client) -> Option<(T, BudgetScope)>,
    ) -> Option<&Client> {
        let shared = |other: &Client| match self {
            BudgetScope::Client => false,
            BudgetScope::SubAccount => other.sub_account == sub_account,
            BudgetScope::Account => other.account == account,
        };
        clients.iter().find(|o| shared(o) && of(o).is_some_and(|(theirs, scope)| scope == self && theirs != mine))
    }
}

impl Budget {
    /// The tokens a budget starts with.
    pub fn full(&self) -> f64 {
        match *self {
            Budget::TokenBucket { capacity, .. } => capacity,
            Budget::Ratio { max_tokens, .. } => max_tokens,
        }
    }

    /// An attempt was throttled and the policy would retry: whether the budget lets it, updating `tokens`.
    #[inline]
    pub fn allow_retry(&self, tokens: &mut f64) -> bool {
        match *self {
            Budget::TokenBucket { retry_cost, .. } => {
                let allowed = *tokens >= retry_cost;
                if allowed {
                    *tokens -= retry_cost;
                }
                allowed
            }
            Budget::Ratio { max_tokens, .. } => {
                *tokens = (*tokens - 1.0).max(0.0);
                *tokens > max_tokens / 2.0
            }
        }
    }

    /// An attempt was throttled with no retry left: the ratio budget still counts the failure.
    #[inline]
    pub fn note_failure(&self, tokens: &mut f64) {
        if let Budget::Ratio { .. } = self {
            *tokens = (*tokens - 1.0).max(0.0);
        }
    }

    /// An attempt was admitted.
    #[inline]
    pub fn note_success(&self, tokens: &mut f64) {
        match *self {
            Budget::TokenBucket { capacity, success_refund, .. } => *tokens = (*tokens + success_refund).min(capacity),
            Budget::Ratio { max_tokens, token_ratio } => *tokens = (*tokens + token_ratio).min(max_tokens),
        }
    }
}

/// Client-side pacing: a GCRA (a token bucket of `burst`) at `rate`, in front of every attempt, first or
/// retry. Attempts wait in FIFO order for their turn; past `queue_limit` waiting, a request is dropped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    /// The spacing of attempts: 1 / rate, rounded up to the nanosecond so that the pacer is never faster
    /// than its rate (at rate L it never sends more than L in any second).
    pub interval: Nanos,
    pub burst: u64,
    /// How many may wait at once (`None`: no limit).
    pub queue_limit: Option<usize>,
    /// The rate as written, for reports.
    pub rate: f64,
}

impl Pace {
    pub fn new(rate: f64, burst: u64, queue_limit: Option<usize>) -> Pace {
        let interval = ((crate::time::NANOS_PER_SEC as f64 / rate).ceil() as Nanos).max(1);
        Pace { interval, burst: burst.max(1), queue_limit, rate }
    }
}
