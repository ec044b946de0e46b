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

/// Consecutive failures that lock an account, and the first lock's length; each further
/// failure while it is still failing doubles the lock, up to [`MAX_LOCK_MS`]. A lock always
/// ends, so a stranger cannot lock an admin out for good; a higher admin may end it sooner.
pub const FAILURES_BEFORE_LOCK: u32 = 5;
pub const FIRST_LOCK_MS: Millis = 5 * 60_000;
pub const MAX_LOCK_MS: Millis = 60 * 60_000;

/// Failed sign-ins one address may make in [`ADDRESS_WINDOW_MS`] before it is refused
/// until the window moves on (whatever account it tries).
pub const ADDRESS_LIMIT: u32 = 20;
pub const ADDRESS_WINDOW_MS: Millis = 15 * 60_000;

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

/// How long an account with `failures` consecutive failures is locked from `now` (None: not
/// locked).
pub fn lock_after(failures: u32, now: Millis) -> Option<Millis> {
    if failures < FAILURES_BEFORE_LOCK {
        return None;
    }
    let doublings = (failures - FAILURES_BEFORE_LOCK).min(8);
    let ms = (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS);
    Some(now + ms)
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

    #[test]
    fn locks_grow_and_end() {
        assert_eq!(lock_after(4, 0), None);
        assert_eq!(lock_after(5, 0), Some(FIRST_LOCK_MS));
        assert_eq!(lock_after(6, 0), Some(2 * FIRST_LOCK_MS));
        assert_eq!(lock_after(100, 0), Some(MAX_LOCK_MS));
    }
}
