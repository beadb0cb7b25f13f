//! Random streams. Every stream is its own generator seeded from (scenario seed, owner, purpose), so what one
//! client draws never depends on what another did or on how events interleave: adding a client leaves the
//! others' draws unchanged, and a run is reproducible bit for bit.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// The generator behind every stream: named, so its algorithm cannot change under us with a rand upgrade.
pub type StreamRng = Xoshiro256PlusPlus;

/// What a stream is used for; part of its seed.
#[derive(Clone, Copy, Debug)]
#[repr(u64)]
pub enum Purpose {
    Arrivals = 1,
    Latency = 2,
    Think = 3,
    ApiMix = 4,
    /// Retry jitter.
    Retry = 5,
    /// Adaptive client throttling's local rejections.
    Adaptive = 6,
    /// Request costs in units.
    Cost = 7,
}

/// SplitMix64's finaliser: a bijective mix, so distinct inputs give distinct, well-spread seeds.
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of `purpose` for owner number `owner` (a client's index) under `seed`.
pub fn stream(seed: u64, owner: u64, purpose: Purpose) -> StreamRng {
    StreamRng::seed_from_u64(mix64(mix64(seed) ^ mix64(owner.wrapping_mul(16) + purpose as u64)))
}
