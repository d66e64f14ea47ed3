//! What the load driver did and what the adapter acknowledged, and the check
//! that every acknowledged write is still there.
//!
//! The driver appends an [`Event`] before a write it may not see finish
//! (`*Try`) and after each write the adapter acknowledged. A write whose call
//! failed is *ambiguous*: it may or may not have landed, and the check asks
//! nothing of it except that it left no orphan. Events can also go to a file,
//! one JSON object per line, written before the driver moves on, so that a
//! process killed with SIGKILL leaves the record of everything it was told.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use auth_core::{Adapter, AdapterError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One entry of the journal.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "e", rename_all = "snake_case")]
pub enum Event {
    /// `create_user` returned this user.
    User {
        /// Its id.
        id: String,
        /// Its email.
        email: String,
    },
    /// `create_session` is about to be called.
    SessionTry {
        /// The session token.
        token: String,
        /// The owner.
        user: String,
    },
    /// `create_session` returned.
    Session {
        /// The session token.
        token: String,
        /// The owner.
        user: String,
        /// Its expiry, Unix milliseconds.
        expires_ms: i64,
    },
    /// `update_session` returned the session with this expiry.
    Update {
        /// The session token.
        token: String,
        /// The new expiry, Unix milliseconds.
        expires_ms: i64,
    },
    /// `update_session` failed: the expiry may be the new one or the old.
    UpdateFailed {
        /// The session token.
        token: String,
    },
    /// `create_verification_token` returned.
    Token {
        /// The identifier.
        identifier: String,
        /// The token.
        token: String,
    },
    /// `use_verification_token` returned the token.
    Used {
        /// The identifier.
        identifier: String,
        /// The token.
        token: String,
    },
    /// `use_verification_token` failed: the token may have been used.
    UseFailed {
        /// The token.
        token: String,
    },
    /// `delete_user` is about to be called.
    DeleteTry {
        /// The user's id.
        id: String,
    },
    /// `delete_user` returned.
    Deleted {
        /// The user's id.
        id: String,
    },
}

/// Where events go: kept in memory for the check at the end, and/or
/// appended to a file.
pub struct Journal {
    keep: bool,
    events: Mutex<Vec<Event>>,
    file: Option<Mutex<File>>,
}

impl Journal {
    /// A journal kept in memory when `keep`, and appended to `file` when
    /// given (created or truncated).
    pub fn new(keep: bool, file: Option<&Path>) -> std::io::Result<Self> {
        let file = match file {
            Some(path) => Some(Mutex::new(File::create(path)?)),
            None => None,
        };
        Ok(Self {
            keep,
            events: Mutex::new(Vec::new()),
            file,
        })
    }

    /// Whether events are recorded at all.
    pub fn enabled(&self) -> bool {
        self.keep || self.file.is_some()
    }

    /// Records `event`: in the file first (one `write` call per line, so
    /// that the kernel has it even if this process is killed next).
    pub fn record(&self, event: Event) {
        if let Some(file) = &self.file {
            let mut line = serde_json::to_vec(&event).expect("an event serializes");
            line.push(b'\n');
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = file.write_all(&line) {
                eprintln!("[faults] journal write failed: {e}");
            }
        }
        if self.keep {
            self.events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event);
        }
    }

    /// The events kept in memory.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Reads a journal file; a last line cut short by a kill is ignored.
pub fn read_journal(path: &Path) -> std::io::Result<Vec<Event>> {
    let file = File::open(path)?;
    let mut events = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line?;
        match serde_json::from_str(&line) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
    }
    Ok(events)
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Verification {
    /// Acknowledged writes checked, by kind.
    pub acked: Acked,
    /// Acknowledged writes not found afterwards.
    pub lost: u64,
    /// Deleted users still there, or sessions of deleted users.
    pub orphans: u64,
    /// Verification tokens handed out more than once.
    pub used_twice: u64,
    /// Calls of the check itself that failed.
    pub check_errors: u64,
    /// Up to ten of the problems found, described.
    pub examples: Vec<String>,
}

/// Acknowledged writes, by kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Acked {
    /// Users created.
    pub users: u64,
    /// Sessions created.
    pub sessions: u64,
    /// Session updates.
    pub updates: u64,
    /// Verification tokens created.
    pub tokens: u64,
    /// Verification tokens used.
    pub uses: u64,
    /// Users deleted.
    pub deletes: u64,
}

impl Verification {
    fn problem(&mut self, text: String) {
        if self.examples.len() < 10 {
            self.examples.push(text);
        }
    }

    /// Whether nothing was lost, orphaned or used twice, and the check ran.
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.orphans == 0 && self.used_twice == 0 && self.check_errors == 0
    }
}

/// Checks every acknowledged write of `events` against `adapter`:
///
/// - a created user that no one tried to delete is there, with its email;
/// - a deleted user is gone, and so is every session ever created for it
///   (acknowledged or not): no orphan;
/// - a created session whose user stays is there, with at least the expiry
///   of its last acknowledged update;
/// - a verification token was handed out at most once; one never handed out
///   and never involved in a failed use is still there (and is used now).
///
/// Tokens are named in the examples by a hash, never in the clear.
pub async fn verify(adapter: &dyn Adapter, events: &[Event]) -> Verification {
    let mut v = Verification::default();
    let mut users: HashMap<&str, &str> = HashMap::new();
    let mut delete_tried: HashSet<&str> = HashSet::new();
    let mut deleted: HashSet<&str> = HashSet::new();
    let mut sessions: HashMap<&str, (&str, i64)> = HashMap::new();
    let mut session_owner: HashMap<&str, &str> = HashMap::new();
    let mut update_failed: HashSet<&str> = HashSet::new();
    let mut tokens: Vec<(&str, &str)> = Vec::new();
    let mut uses: HashMap<&str, u64> = HashMap::new();
    let mut use_failed: HashSet<&str> = HashSet::new();
    for event in events {
        match event {
            Event::User { id, email } => {
                v.acked.users += 1;
                users.insert(id, email);
            }
            Event::SessionTry { token, user } => {
                session_owner.insert(token, user);
            }
            Event::Session {
                token,
                user,
                expires_ms,
            } => {
                v.acked.sessions += 1;
                session_owner.insert(token, user);
                sessions.insert(token, (user, *expires_ms));
            }
            Event::Update { token, expires_ms } => {
                v.acked.updates += 1;
                if let Some(entry) = sessions.get_mut(token.as_str()) {
                    entry.1 = entry.1.max(*expires_ms);
                }
            }
            Event::UpdateFailed { token } => {
                update_failed.insert(token);
            }
            Event::Token { identifier, token } => {
                v.acked.tokens += 1;
                tokens.push((identifier, token));
            }
            Event::Used { token, .. } => {
                v.acked.uses += 1;
                *uses.entry(token).or_default() += 1;
            }
            Event::UseFailed { token } => {
                use_failed.insert(token);
            }
            Event::DeleteTry { id } => {
                delete_tried.insert(id);
            }
            Event::Deleted { id } => {
                v.acked.deletes += 1;
                deleted.insert(id);
            }
        }
    }

    // Users: present unless deleted; gone when the delete was acknowledged.
    let mut gone: HashSet<&str> = HashSet::new();
    for (&id, &email) in &users {
        match retry(|| adapter.get_user(id)).await {
            Ok(Some(user)) => {
                if deleted.contains(id) {
                    v.orphans += 1;
                    v.problem(format!("user {id}: deleted (acknowledged) but still there"));
                } else if user.email.as_deref() != Some(email) {
                    v.lost += 1;
                    v.problem(format!("user {id}: email {:?}, wrote {email}", user.email));
                }
            }
            Ok(None) => {
                gone.insert(id);
                if !delete_tried.contains(id) {
                    v.lost += 1;
                    v.problem(format!("user {id} ({email}): acknowledged, now missing"));
                }
            }
            Err(e) => check_error(&mut v, "get_user", &e),
        }
    }

    // Sessions of users that are gone must be gone too (whether or not
    // their creation was acknowledged): delete_session finds the row itself,
    // not through a join with the user.
    for (&token, &owner) in &session_owner {
        if !gone.contains(owner) {
            continue;
        }
        match retry(|| adapter.delete_session(token)).await {
            Ok(Some(_)) => {
                v.orphans += 1;
                v.problem(format!(
                    "session {}: its user {owner} is gone, the session was not",
                    label(token)
                ));
            }
            Ok(None) => {}
            Err(e) => check_error(&mut v, "delete_session", &e),
        }
    }

    // Acknowledged sessions of users that stay.
    for (&token, &(owner, expires_ms)) in &sessions {
        if delete_tried.contains(owner) {
            continue;
        }
        match retry(|| adapter.get_session_and_user(token)).await {
            Ok(Some((session, user))) => {
                let stored = unix_ms(session.expires);
                if session.user_id != owner || user.id != owner {
                    v.lost += 1;
                    v.problem(format!(
                        "session {}: owner {}, wrote {owner}",
                        label(token),
                        session.user_id
                    ));
                } else if stored < expires_ms {
                    v.lost += 1;
                    v.problem(format!(
                        "session {}: expires at {stored} ms, an acknowledged update set {expires_ms} ms{}",
                        label(token),
                        if update_failed.contains(token) {
                            " (a later update failed)"
                        } else {
                            ""
                        }
                    ));
                }
            }
            Ok(None) => {
                v.lost += 1;
                v.problem(format!(
                    "session {}: acknowledged, now missing",
                    label(token)
                ));
            }
            Err(e) => check_error(&mut v, "get_session_and_user", &e),
        }
    }

    // Verification tokens: at most one use each; the unused ones remain.
    for (identifier, token) in tokens {
        let used = uses.get(token).copied().unwrap_or(0);
        if used > 1 {
            v.used_twice += 1;
            v.problem(format!("token {}: handed out {used} times", label(token)));
        }
        match retry(|| adapter.use_verification_token(identifier, token)).await {
            Ok(Some(_)) if used > 0 => {
                v.used_twice += 1;
                v.problem(format!(
                    "token {}: used, and could be used again",
                    label(token)
                ));
            }
            Ok(None) if used == 0 && !use_failed.contains(token) => {
                v.lost += 1;
                v.problem(format!(
                    "token {}: acknowledged, never used, now missing",
                    label(token)
                ));
            }
            Ok(_) => {}
            Err(e) => check_error(&mut v, "use_verification_token", &e),
        }
    }
    v
}

/// Runs one call of the check, again after a pause when it fails (up to 5
/// times): the check asks what is stored, and a server still catching up
/// after a fault should not make it report a failure of its own. A call
/// that fails 5 times is a check error. Retrying a `use_verification_token`
/// whose first try landed would count a token as missing, never as found
/// twice, so a retry cannot hide a token used twice.
async fn retry<T, F, Fut>(call: F) -> Result<T, AdapterError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, AdapterError>>,
{
    let mut tries = 0;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(e) if tries >= 4 => return Err(e),
            Err(_) => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}

fn check_error(v: &mut Verification, call: &str, e: &AdapterError) {
    v.check_errors += 1;
    v.problem(format!("the check's {call} failed: {e}"));
}

/// A label for a secret in a report: a hash of it, never the secret itself.
pub fn label(token: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    format!("#{:08x}", hasher.finish() as u32)
}

/// `at` as Unix milliseconds.
pub fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapter_conformance::memory::MemoryAdapter;
    use auth_core::{NewUser, Session, VerificationToken};

    fn user(email: &str) -> NewUser {
        NewUser {
            name: None,
            email: Some(email.into()),
            email_verified: None,
            image: None,
        }
    }

    /// The check passes on what really happened and finds each kind of
    /// lie: a write acknowledged but absent, a deleted user's session left
    /// behind, a token handed out twice.
    #[tokio::test]
    async fn the_check_finds_lost_writes_orphans_and_tokens_used_twice() {
        let adapter = MemoryAdapter::new();
        let kept = adapter.create_user(user("kept@x.example")).await.unwrap();
        let expires = OffsetDateTime::from_unix_timestamp(4_000_000_000).unwrap();
        adapter
            .create_session(Session {
                session_token: "s-kept".into(),
                user_id: kept.id.clone(),
                expires,
            })
            .await
            .unwrap();
        adapter
            .create_verification_token(VerificationToken {
                identifier: "kept@x.example".into(),
                token: "t-unused".into(),
                expires,
            })
            .await
            .unwrap();
        let truth = vec![
            Event::User {
                id: kept.id.clone(),
                email: "kept@x.example".into(),
            },
            Event::Session {
                token: "s-kept".into(),
                user: kept.id.clone(),
                expires_ms: unix_ms(expires),
            },
            Event::Token {
                identifier: "kept@x.example".into(),
                token: "t-unused".into(),
            },
        ];
        let v = verify(&adapter, &truth).await;
        assert!(v.clean(), "{v:?}");
        assert_eq!(v.acked.users, 1);
        // The check used the token: a second check finds it gone.
        let v = verify(&adapter, &truth).await;
        assert_eq!(v.lost, 1, "{v:?}");

        // A user and a session acknowledged but not stored.
        let lies = vec![
            Event::User {
                id: "no-such-user".into(),
                email: "ghost@x.example".into(),
            },
            Event::Session {
                token: "s-ghost".into(),
                user: kept.id.clone(),
                expires_ms: unix_ms(expires),
            },
            // An update acknowledged with a later expiry than stored.
            Event::Update {
                token: "s-kept".into(),
                expires_ms: unix_ms(expires) + 60_000,
            },
        ];
        let mut events = truth[..2].to_vec();
        events.extend(lies);
        let v = verify(&adapter, &events).await;
        assert_eq!(v.lost, 3, "{v:?}");

        // A deleted user whose session survived: an orphan.
        let gone = adapter.create_user(user("gone@x.example")).await.unwrap();
        adapter
            .create_session(Session {
                session_token: "s-orphan".into(),
                user_id: gone.id.clone(),
                expires,
            })
            .await
            .unwrap();
        let events = vec![
            Event::User {
                id: gone.id.clone(),
                email: "gone@x.example".into(),
            },
            Event::SessionTry {
                token: "s-orphan".into(),
                user: gone.id.clone(),
            },
            Event::DeleteTry {
                id: gone.id.clone(),
            },
            Event::Deleted {
                id: gone.id.clone(),
            },
        ];
        // Deleted as acknowledged, but still there.
        let v = verify(&adapter, &events).await;
        assert_eq!(v.orphans, 1, "{v:?}");

        // A token two callers both got.
        let events = vec![
            Event::Token {
                identifier: "a".into(),
                token: "t-twice".into(),
            },
            Event::Used {
                identifier: "a".into(),
                token: "t-twice".into(),
            },
            Event::Used {
                identifier: "a".into(),
                token: "t-twice".into(),
            },
        ];
        let v = verify(&adapter, &events).await;
        assert_eq!(v.used_twice, 1, "{v:?}");
    }

    #[test]
    fn a_journal_cut_short_by_a_kill_reads_up_to_its_last_whole_line() {
        let dir = std::env::temp_dir().join(format!("faults-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("j.jsonl");
        let journal = Journal::new(false, Some(&path)).unwrap();
        journal.record(Event::Deleted { id: "1".into() });
        journal.record(Event::Deleted { id: "2".into() });
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"e\":\"dele");
        std::fs::write(&path, text).unwrap();
        let events = read_journal(&path).unwrap();
        assert_eq!(
            events,
            vec![
                Event::Deleted { id: "1".into() },
                Event::Deleted { id: "2".into() }
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
