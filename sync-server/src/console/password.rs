//! Passwords and the sign-in throttle: argon2id hashing, what a new password must be, and
//! when an account or an address is slowed down. Pure rules; the tables are
//! [`crate::storage::AccountStorage`]'s.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use linli_domain::Millis;

use crate::error::{Error, Result};

pub const MIN_CHARS: usize = 10;
pub const MAX_CHARS: usize = 128;

/// Failed sign-ins against one account from one address within [`WINDOW_MS`] that lock the
/// account for that address until the window moves past them. Other addresses (its owner's
/// office) are not locked: a stranger can slow an account down, never lock its owner out.
/// A higher admin may clear the failures sooner.
pub const ACCOUNT_LIMIT: u32 = 5;
/// Failed sign-ins from one address within [`WINDOW_MS`], whatever account they try, that
/// refuse the address until the window moves on.
pub const ADDRESS_LIMIT: u32 = 20;
pub const WINDOW_MS: Millis = 15 * 60_000;

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|_| Error::Config("password salt".into()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Error::Config("password hash".into()))
}

/// Whether `password` matches the PHC string `phc` (false for a malformed one).
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of a verification when there is no account to verify against, so a
/// wrong user name takes as long as a wrong password.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(phc) = DUMMY.get_or_init(|| hash("linli-no-such-account").ok()) {
        let _ = verify(password, phc);
    }
}

/// Why a new password is refused, in Chinese for the form.
pub fn check_new(password: &str, confirm: &str) -> std::result::Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_CHARS {
        return Err("新密码至少10个字符");
    }
    if n > MAX_CHARS {
        return Err("新密码不能超过128个字符");
    }
    if password.trim().is_empty() {
        return Err("新密码不能全是空格");
    }
    if password != confirm {
        return Err("两次输入的新密码不一致");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("一二三四五六七八九十").unwrap();
        let b = hash("一二三四五六七八九十").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify("一二三四五六七八九十", &a));
        assert!(!verify("一二三四五六七八九", &a));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn new_passwords() {
        assert!(check_new("short", "short").is_err());
        assert!(check_new("long enough pw", "long enough pX").is_err());
        assert!(check_new("          ", "          ").is_err());
        assert!(check_new(&"x".repeat(129), &"x".repeat(129)).is_err());
        assert!(check_new("long enough pw", "long enough pw").is_ok());
    }
}
