//! HTTP basic authentication against argon2 password hashes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, Params};
use tokio::sync::Semaphore;

use crate::{AuthError, Denied, Principal, Role};

/// A user allowed to authenticate with a password.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The name sent in the Basic header.
    pub name: String,
    /// An argon2 PHC string, as `vouch auth hash-password` prints it.
    pub password_hash: String,
    /// Role names: `provisioner`, `manager`.
    pub roles: Vec<String>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .finish_non_exhaustive()
    }
}

struct Account {
    hash: PasswordHash,
    roles: Vec<Role>,
}

/// How long a verified (user, password) pair is remembered, so a client
/// submitting many CoRIMs pays the deliberately slow argon2 once rather
/// than on every request.
const VERIFIED_TTL: Duration = Duration::from_secs(300);
/// Most pairs remembered.
const VERIFIED_MAX: usize = 1024;

/// Users and their argon2 hashes.
pub struct BasicAuth {
    accounts: HashMap<String, Account>,
    /// Checked for unknown users, so they take as long as known ones and
    /// the timing does not tell which user names exist.
    dummy: PasswordHash,
    /// Each verification takes tens of MiB (argon2's memory cost) and a
    /// core for tens of ms: bound how many run at once.
    permits: Semaphore,
    /// HMAC key for the remembered pairs: what is kept in memory is a MAC
    /// under a per-process random key, never the password.
    cache_key: aws_lc_rs::hmac::Key,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
}

fn is_argon2(hash: &PasswordHash) -> bool {
    matches!(hash.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d")
}

fn parse_hash(user: &str, phc: &str) -> Result<PasswordHash, AuthError> {
    let invalid = |reason: String| AuthError::PasswordHash {
        user: user.to_owned(),
        reason,
    };
    let hash = PasswordHash::new(phc.trim()).map_err(|e| invalid(e.to_string()))?;
    if !is_argon2(&hash) {
        return Err(invalid(format!(
            "the algorithm is {}",
            hash.algorithm.as_str()
        )));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(invalid("it has no salt or no hash".to_owned()));
    }
    // The parameters must be ones argon2 accepts, or every login would fail.
    Params::try_from(&hash).map_err(|e| invalid(e.to_string()))?;
    Ok(hash)
}

fn random<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| AuthError::Hashing("the system random generator failed".to_owned()))?;
    Ok(bytes)
}

impl BasicAuth {
    /// Checks and indexes `users`.
    pub fn new(users: Vec<User>) -> Result<Self, AuthError> {
        if users.is_empty() {
            return Err(AuthError::NoUsers);
        }
        let mut accounts = HashMap::new();
        for user in users {
            if user.name.is_empty() {
                return Err(AuthError::EmptyUserName);
            }
            if user.name.contains(':') {
                return Err(AuthError::ColonInUserName(user.name));
            }
            let hash = parse_hash(&user.name, &user.password_hash)?;
            let mut roles = user
                .roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()?;
            roles.sort_unstable();
            roles.dedup();
            if accounts
                .insert(user.name.clone(), Account { hash, roles })
                .is_some()
            {
                return Err(AuthError::DuplicateUser(user.name));
            }
        }
        // The dummy has the parameters of a real user, so it costs the same.
        let template = accounts
            .values()
            .next()
            .map(|a| &a.hash)
            .ok_or(AuthError::NoUsers)?;
        let params = Params::try_from(template).map_err(|e| AuthError::Hashing(e.to_string()))?;
        let algorithm = argon2::Algorithm::try_from(template.algorithm.as_str())
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        let version = template
            .version
            .map(argon2::Version::try_from)
            .transpose()
            .map_err(|e| AuthError::Hashing(e.to_string()))?
            .unwrap_or_default();
        let dummy = Argon2::new(algorithm, version, params)
            .hash_password_with_salt(&random::<32>()?, &random::<16>()?)
            .map_err(|e| AuthError::Hashing(e.to_string()))?;
        let cache_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &random::<32>()?);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(BasicAuth {
            accounts,
            dummy,
            permits: Semaphore::new(cores),
            cache_key,
            verified: Mutex::new(HashMap::new()),
        })
    }

    /// The configured user names, sorted.
    pub fn user_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.accounts.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn cache_tag(&self, user: &str, password: &[u8]) -> [u8; 32] {
        let mut context = aws_lc_rs::hmac::Context::with_key(&self.cache_key);
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        context.update(&u64::try_from(user.len()).unwrap_or(u64::MAX).to_be_bytes());
        context.update(user.as_bytes());
        context.update(password);
        let mut tag = [0u8; 32];
        tag.copy_from_slice(context.sign().as_ref());
        tag
    }

    fn recently_verified(&self, tag: &[u8; 32]) -> bool {
        let verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        verified
            .get(tag)
            .is_some_and(|at| at.elapsed() < VERIFIED_TTL)
    }

    fn remember(&self, tag: [u8; 32]) {
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= VERIFIED_MAX {
            verified.retain(|_, at| at.elapsed() < VERIFIED_TTL);
            if verified.len() >= VERIFIED_MAX {
                verified.clear();
            }
        }
        verified.insert(tag, Instant::now());
    }

    /// Checks `user`'s `password`. An unknown user and a wrong password
    /// give the same answer after the same work.
    pub async fn authenticate(&self, user: &str, password: &[u8]) -> Result<Principal, Denied> {
        let account = self.accounts.get(user);
        let tag = self.cache_tag(user, password);
        if account.is_some() && self.recently_verified(&tag) {
            return Ok(self.principal(user, account));
        }
        let hash = account.map_or_else(|| self.dummy.clone(), |a| a.hash.clone());
        let password = password.to_vec();
        let verified = {
            let _permit = self
                .permits
                .acquire()
                .await
                .map_err(|_| Denied::Unavailable("password checks are shut down".to_owned()))?;
            // argon2 is CPU-bound for tens of ms: off the async workers.
            tokio::task::spawn_blocking(move || {
                Argon2::default().verify_password(&password, &hash).is_ok()
            })
            .await
            .map_err(|e| Denied::Unavailable(format!("password check failed: {e}")))?
        };
        match account {
            Some(_) if verified => {
                self.remember(tag);
                Ok(self.principal(user, account))
            }
            _ => {
                tracing::info!(user, "basic authentication failed");
                Err(Denied::BadPassword)
            }
        }
    }

    fn principal(&self, user: &str, account: Option<&Account>) -> Principal {
        Principal {
            name: user.to_owned(),
            roles: account.map(|a| a.roles.clone()).unwrap_or_default(),
        }
    }
}

/// Hashes `password` with argon2id and OWASP's parameters (19 MiB, two
/// passes, one lane) and a random salt, as a PHC string for the
/// configuration file.
pub fn hash_password(password: &[u8]) -> Result<String, AuthError> {
    if password.is_empty() {
        return Err(AuthError::EmptyPassword);
    }
    Argon2::default()
        .hash_password_with_salt(password, &random::<16>()?)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters: the tests check logic, not cost.
    fn quick_hash(password: &str) -> String {
        let params = Params::new(256, 1, 1, None).unwrap();
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_with_salt(password.as_bytes(), b"saltsaltsaltsalt")
            .unwrap()
            .to_string()
    }

    fn user(name: &str, password: &str, roles: &[&str]) -> User {
        User {
            name: name.into(),
            password_hash: quick_hash(password),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[tokio::test]
    async fn right_and_wrong_passwords_and_unknown_users() {
        let auth = BasicAuth::new(vec![
            user("alice", "wonderland", &["provisioner"]),
            user("bob", "builder", &["manager", "provisioner", "manager"]),
        ])
        .unwrap();
        let alice = auth.authenticate("alice", b"wonderland").await.unwrap();
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.roles, [Role::Provisioner]);
        let bob = auth.authenticate("bob", b"builder").await.unwrap();
        assert_eq!(bob.roles, [Role::Provisioner, Role::Manager]);
        assert_eq!(
            auth.authenticate("alice", b"builder").await,
            Err(Denied::BadPassword)
        );
        assert_eq!(
            auth.authenticate("carol", b"wonderland").await,
            Err(Denied::BadPassword)
        );
        // Remembered pairs are exactly the verified ones.
        assert_eq!(
            auth.authenticate("alice", b"wonderland")
                .await
                .unwrap()
                .name,
            "alice"
        );
        assert_eq!(
            auth.authenticate("alice", b"wonderlan").await,
            Err(Denied::BadPassword)
        );
        assert_eq!(auth.user_names(), ["alice", "bob"]);
    }

    #[test]
    fn bad_configurations_are_refused() {
        assert!(matches!(BasicAuth::new(vec![]), Err(AuthError::NoUsers)));
        let mut bcrypt = user("a", "x", &[]);
        bcrypt.password_hash =
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW".into();
        assert!(matches!(
            BasicAuth::new(vec![bcrypt]),
            Err(AuthError::PasswordHash { .. })
        ));
        let mut plain = user("a", "x", &[]);
        plain.password_hash = "secret".into();
        assert!(matches!(
            BasicAuth::new(vec![plain]),
            Err(AuthError::PasswordHash { .. })
        ));
        assert!(matches!(
            BasicAuth::new(vec![user("a", "x", &["admin"])]),
            Err(AuthError::UnknownRole(_))
        ));
        assert!(matches!(
            BasicAuth::new(vec![user("a", "x", &[]), user("a", "y", &[])]),
            Err(AuthError::DuplicateUser(_))
        ));
        assert!(matches!(
            BasicAuth::new(vec![user("a:b", "x", &[])]),
            Err(AuthError::ColonInUserName(_))
        ));
        assert!(matches!(
            BasicAuth::new(vec![user("", "x", &[])]),
            Err(AuthError::EmptyUserName)
        ));
    }

    #[tokio::test]
    async fn hash_password_makes_hashes_that_verify() {
        let phc = hash_password(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert_ne!(phc, hash_password(b"correct horse").unwrap(), "salted");
        let auth = BasicAuth::new(vec![User {
            name: "ops".into(),
            password_hash: phc,
            roles: vec!["provisioner".into()],
        }])
        .unwrap();
        assert!(auth.authenticate("ops", b"correct horse").await.is_ok());
        assert!(auth.authenticate("ops", b"correct horses").await.is_err());
        assert!(matches!(hash_password(b""), Err(AuthError::EmptyPassword)));
    }

    #[test]
    fn debug_does_not_show_hashes() {
        let u = user("alice", "x", &["provisioner"]);
        assert!(!format!("{u:?}").contains("argon2"));
    }
}
