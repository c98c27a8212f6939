//! Employees' passwords: what a new one must be, and argon2id hashing. Pure computation (no
//! I/O); the API runs it on a blocking thread, a bounded number at a time, because one hash
//! takes tens of milliseconds of a core and 19 MiB of memory on purpose.

use super::FieldError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use std::sync::OnceLock;

/// Fewest characters of a password: BKN's e-Kinerja asks for eight.
pub const MIN_CHARS: usize = 8;

/// Most characters of a password: long passphrases fit, and no client can make a hash
/// expensive by sending a megabyte.
pub const MAX_CHARS: usize = 128;

/// Checks a new password: length, no control characters, and not the NIP itself (the first
/// thing anyone would try).
pub fn validate_new(field: &str, password: &str, nip: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    super::check(
        (MIN_CHARS..=MAX_CHARS).contains(&n),
        field,
        format!("must be {MIN_CHARS}–{MAX_CHARS} characters"),
    )?;
    super::check(
        !password.chars().any(char::is_control),
        field,
        "must not contain control characters",
    )?;
    super::check(!password.contains(nip), field, "must not contain the NIP")
}

/// Checks a password given to be verified (at sign-in, or as the old one): one too long to
/// be anyone's is refused before it is hashed. Shorter ones are simply wrong, not invalid.
pub fn validate_given(field: &str, password: &str) -> Result<(), FieldError> {
    super::check(
        password.chars().count() <= MAX_CHARS,
        field,
        format!("at most {MAX_CHARS} characters"),
    )
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's recommendation).
fn hasher() -> Argon2<'static> {
    Argon2::default()
}

/// The PHC string (`$argon2id$v=19$m=…`) of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches `phc`. With no stored hash (an unknown NIP, or one without a
/// password) the password is checked against a hash of nothing anyone knows, with the same
/// parameters, so the answer takes as long as for a wrong password: timing does not tell
/// which NIPs exist.
pub fn verify(password: &str, phc: Option<&str>) -> bool {
    let stored = phc.and_then(|p| PasswordHash::new(p).ok());
    match stored {
        Some(h) => hasher().verify_password(password.as_bytes(), &h).is_ok(),
        None => {
            let dummy = dummy();
            if let Ok(h) = PasswordHash::new(dummy) {
                let _ = hasher().verify_password(password.as_bytes(), &h);
            }
            false
        }
    }
}

/// A hash of a random password made once per process, for [`verify`]'s no-hash case.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        hash(&hex::encode(secret)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("rahasia-123").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("rahasia-123", Some(&h)));
        assert!(!verify("rahasia-124", Some(&h)));
        assert!(!verify("rahasia-123", None));
        assert!(!verify("rahasia-123", Some("not a hash")));
        assert_ne!(h, hash("rahasia-123").unwrap(), "salted");
    }

    #[test]
    fn new_passwords() {
        let nip = "198503122010011001";
        assert!(validate_new("password", "rahasia-123", nip).is_ok());
        assert!(validate_new("password", "pendek", nip).is_err());
        assert!(validate_new("password", &"x".repeat(129), nip).is_err());
        assert!(validate_new("password", "abc\u{0}defghi", nip).is_err());
        assert!(validate_new("password", &format!("x{nip}"), nip).is_err());
    }
}
