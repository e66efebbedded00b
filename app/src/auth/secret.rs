//! Random secrets (session ids, API tokens) and the SHA-256 digests under which they are stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::TryRngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, URL-safe base64, after a readable prefix that says what the secret is for.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    if OsRng.try_fill_bytes(&mut bytes).is_err() {
        // Without an OS random source no secret can be made safely; stopping is the only safe answer.
        panic!("the operating system's random number generator is unavailable");
    }
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub fn sha256(secret: &str) -> Vec<u8> {
    sha256_bytes(secret.as_bytes())
}

pub fn sha256_bytes(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

pub const API_TOKEN_PREFIX: &str = "pareto";
pub const SESSION_PREFIX: &str = "s";

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_carry_256_random_bits_after_their_prefix() {
        let token = random_token(API_TOKEN_PREFIX);
        let (prefix, body) = token.split_once('_').expect("prefix");
        assert_eq!(prefix, "pareto");
        let decoded = URL_SAFE_NO_PAD.decode(body).expect("base64");
        assert_eq!(decoded.len(), 32);
    }

    #[test]
    fn tokens_do_not_repeat() {
        let tokens: HashSet<String> = (0..1000).map(|_| random_token("t")).collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn the_stored_digest_is_sha256_of_the_whole_token() {
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256("abc"),
            vec![
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad
            ]
        );
        assert_ne!(sha256("pareto_a"), sha256("pareto_b"));
    }
}
