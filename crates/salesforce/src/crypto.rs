//! The product's one crypto stack: SHA-256 and constant-time comparison from aws-lc-rs (already
//! in the build for TLS and JWT signing), so no second implementation of the same primitives
//! is compiled in; random bytes from the OS (see [`fill_random`]). The MCP layer and the audit
//! use these too.
//!
//! The emulator keeps its own calls into aws-lc-rs on purpose: it depends on `sfmcp-soql`
//! alone and stays an independent oracle for the tests.

use aws_lc_rs::digest;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, data).as_ref());
    out
}

/// SHA-256 over `parts`, each followed by a zero byte: the separator cannot occur in text, so
/// `("a", "bc")` and `("ab", "c")` differ.
pub fn sha256_parts(parts: &[&str]) -> [u8; 32] {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in parts {
        context.update(part.as_bytes());
        context.update(&[0u8]);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// Lower-case hex of the first `bytes` bytes of [`sha256_parts`]: a short digest that
/// identifies secrets or records without revealing them.
pub fn digest_hex(parts: &[&str], bytes: usize) -> String {
    let digest = sha256_parts(parts);
    hex(&digest[..bytes.min(digest.len())])
}

/// Fills `dest` from the operating system's CSPRNG (`getrandom(2)`).
///
/// Not through AWS-LC: its `RAND_bytes` seeds a userspace DRBG on first use with CPU jitter
/// entropy, which cost every process about 25 ms of start-up (400 million instructions) for
/// the cursor key alone. The kernel's generator is what that DRBG is seeded from anyway.
/// Should the OS fail to answer, the process stops instead of ever handing out predictable
/// bytes as keys, nonces or verifiers.
pub fn fill_random(dest: &mut [u8]) {
    if getrandom::fill(dest).is_err() {
        tracing::error!("the system random number generator failed; stopping");
        std::process::abort();
    }
}

/// `N` random bytes (keys, nonces, ids).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

/// A uniformly random index below `bound` (`0` when `bound` is `0`), without modulo bias.
pub fn random_below(bound: usize) -> usize {
    if bound <= 1 {
        return 0;
    }
    let bound = bound as u64;
    // Reject the top partial range of u64 so every residue is equally likely.
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let value = u64::from_le_bytes(random_bytes());
        if value < zone {
            return usize::try_from(value % bound).unwrap_or(0);
        }
    }
}

/// A uniformly random number in `[0, 1)` (backoff jitter).
pub fn random_unit() -> f64 {
    // 53 random bits: the precision of an f64 mantissa.
    (u64::from_le_bytes(random_bytes()) >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vector() {
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parts_are_separated() {
        assert_ne!(sha256_parts(&["a", "bc"]), sha256_parts(&["ab", "c"]));
        // One part is its bytes and the separator.
        assert_eq!(sha256_parts(&["abc"]), sha256(b"abc\0"));
        assert_eq!(digest_hex(&["abc"], 12).len(), 24);
        assert_eq!(digest_hex(&["abc"], 99).len(), 64);
    }

    #[test]
    fn random_values_stay_in_range_and_differ() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
        assert_eq!(random_below(0), 0);
        assert_eq!(random_below(1), 0);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            seen[random_below(7)] = true;
            let unit = random_unit();
            assert!((0.0..1.0).contains(&unit));
        }
        assert!(seen.iter().all(|s| *s), "every index below 7 comes up");
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"same", b"same"));
        assert!(!constant_time_eq(b"same", b"sane"));
        assert!(!constant_time_eq(b"same", b"same!"));
    }
}
