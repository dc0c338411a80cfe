//! Tokens, hashes and password hashing. Tokens are stored only as SHA-256 hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A random token of `bytes` bytes, hex-encoded (16 bytes = 128 bits).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

pub fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => return String::new(),
    };
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of two strings.
pub fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// argon2id with m=19456 KiB, t=2, p=1 (OWASP's recommendation) and an optional pepper.
#[derive(Clone)]
pub struct PasswordHasher {
    pepper: Option<Vec<u8>>,
    /// A hash of a random password, verified against when the account does not exist so that
    /// unknown emails cost the same time as known ones.
    dummy_hash: String,
    /// How many argon2 computations (hashes and verifications) this hasher and its clones ran:
    /// what tests check to see that a refused request cost none.
    computed: Arc<AtomicU64>,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    pub fn new(pepper: Option<&str>) -> Result<Self, HashError> {
        let mut h =
            Self { pepper: pepper.map(|p| p.as_bytes().to_vec()), dummy_hash: String::new(), computed: Arc::default() };
        h.dummy_hash = h.hash(&random_token(16))?;
        Ok(h)
    }

    fn argon(&self) -> Result<Argon2<'_>, HashError> {
        let params = Params::new(19_456, 2, 1, None).map_err(|e| HashError(e.to_string()))?;
        match &self.pepper {
            Some(p) => Argon2::new_with_secret(p, Algorithm::Argon2id, Version::V0x13, params)
                .map_err(|e| HashError(e.to_string())),
            None => Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)),
        }
    }

    /// The number of argon2 computations run so far.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }

    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        self.computed.fetch_add(1, Ordering::Relaxed);
        let salt = SaltString::generate(&mut OsRng);
        self.argon()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    /// Verifies against a stored hash, or against the dummy hash when there is none.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let target = stored.unwrap_or(&self.dummy_hash);
        let Ok(parsed) = PasswordHash::new(target) else {
            return false;
        };
        self.computed.fetch_add(1, Ordering::Relaxed);
        let ok = match self.argon() {
            Ok(a) => a.verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(_) => false,
        };
        ok && stored.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asvs_2_4_1_argon2id_with_unique_salts() {
        let h = PasswordHasher::new(None).expect("hasher");
        let a = h.hash("correct horse battery staple").expect("hash");
        let b = h.hash("correct horse battery staple").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b);
        assert!(h.verify("correct horse battery staple", Some(&a)));
        assert!(!h.verify("wrong", Some(&a)));
        assert!(!h.verify("anything", None));
    }

    #[test]
    fn asvs_2_4_5_pepper_is_required_to_verify() {
        let peppered = PasswordHasher::new(Some("pepper-pepper-pepper")).expect("hasher");
        let plain = PasswordHasher::new(None).expect("hasher");
        let hash = peppered.hash("correct horse battery staple").expect("hash");
        assert!(peppered.verify("correct horse battery staple", Some(&hash)));
        assert!(!plain.verify("correct horse battery staple", Some(&hash)));
    }

    #[test]
    fn tokens_are_128_bit_hex() {
        let t = random_token(16);
        assert_eq!(t.len(), 32);
        assert_ne!(t, random_token(16));
    }
}
