//! Password hashing with argon2id at the OWASP parameters, run off the async runtime.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

use crate::error::AppError;

/// m = 19456 KiB, t = 2, p = 1 (OWASP password storage cheat sheet).
fn hasher() -> Argon2<'static> {
    let params = match Params::new(19_456, 2, 1, None) {
        Ok(params) => params,
        Err(_) => unreachable!("the OWASP argon2 parameters are valid"),
    };
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

pub fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the account does not exist so that
/// an unknown email takes as long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = crate::auth::secret::random_token("dummy");
        hash_blocking(&random).unwrap_or_default()
    })
}

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|error| {
            tracing::error!(%error, "password hashing task failed");
            AppError::Internal
        })?
        .map_err(|error| {
            tracing::error!(%error, "password hashing failed");
            AppError::Internal
        })
}

/// How many password checks run at once. Each holds 19 MiB and a core for a good part of a
/// second; more sign-ins than this wait their turn instead of exhausting memory.
pub const CONCURRENT_VERIFICATIONS: usize = 4;

/// Verifies `password` against `phc`, or against a dummy hash when there is no account.
pub async fn verify(password: String, phc: Option<String>) -> Result<bool, AppError> {
    static PERMITS: tokio::sync::Semaphore =
        tokio::sync::Semaphore::const_new(CONCURRENT_VERIFICATIONS);
    let _permit = PERMITS.acquire().await.map_err(|_| AppError::Internal)?;
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_blocking(&password, &phc),
        None => {
            verify_blocking(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "password verification task failed");
        AppError::Internal
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let phc = hash_blocking("correct horse battery staple").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse battery staple", &phc));
        assert!(!verify_blocking("correct horse battery stapler", &phc));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let first = hash_blocking("correct horse battery staple").expect("hash");
        let second = hash_blocking("correct horse battery staple").expect("hash");
        assert_ne!(first, second, "salts must differ");
    }

    #[test]
    fn a_malformed_hash_never_verifies() {
        assert!(!verify_blocking("anything", "not a phc string"));
        assert!(!verify_blocking("anything", ""));
    }

    #[tokio::test]
    async fn unknown_accounts_are_refused_after_a_real_verification() {
        assert!(!verify("whatever password".into(), None)
            .await
            .expect("verify"));
    }
}
