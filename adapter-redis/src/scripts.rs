//! The server-side Lua scripts: each is one atomic step on the server.
//!
//! Conventions shared by every script:
//! - `KEYS` holds every key whose name is known before the call; the
//!   cluster client routes the call by `KEYS[1]`.
//! - Keys discovered inside the script (a session's user, a user's sessions
//!   and accounts) are built from the namespace's key base (`{prefix}:`),
//!   passed as `ARGV[1]` where needed. They share the namespace's hash tag,
//!   so they hash to the same cluster slot as `KEYS`.
//! - Outcomes other than data are status replies: `OK`, `CONFLICT`,
//!   `NOTFOUND`; "nothing there" is a nil reply.
//! - "Now" is the caller's clock: the adapter passes
//!   `OffsetDateTime::now_utc()` as unix milliseconds (never the server's
//!   `TIME`), so whether a record has expired is decided as everywhere else
//!   in the adapter. `PEXPIREAT` at `expires` only removes what has expired.

use std::sync::LazyLock;

use redis::Script;

/// Drops expired entries from a per-user session index and lets the index
/// itself expire with its last session, so it never outgrows the live
/// sessions of its user.
const PRUNE_SESSION_INDEX: &str = r"
local function prune_session_index(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', '(' .. string.format('%.0f', now))
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', index, last[2])
  end
end
";

/// Every script of the adapter, compiled (hashed) once per process.
pub(crate) struct Scripts {
    pub create_user: Script,
    pub get_user_by_email: Script,
    pub get_user_by_account: Script,
    pub update_user: Script,
    pub delete_user: Script,
    pub link_account: Script,
    pub unlink_account: Script,
    pub list_accounts: Script,
    pub create_session: Script,
    pub get_session_and_user: Script,
    pub update_session: Script,
    pub delete_session: Script,
    pub list_sessions: Script,
    pub create_verification_token: Script,
    pub create_authenticator: Script,
    pub list_authenticators: Script,
    pub update_authenticator_counter: Script,
    pub clear_namespace: Script,
}

impl Scripts {
    /// All scripts, for `SCRIPT LOAD` in `migrate`.
    pub(crate) fn all(&self) -> [&Script; 17] {
        [
            &self.create_user,
            &self.get_user_by_email,
            &self.get_user_by_account,
            &self.update_user,
            &self.delete_user,
            &self.link_account,
            &self.unlink_account,
            &self.list_accounts,
            &self.create_session,
            &self.get_session_and_user,
            &self.update_session,
            &self.delete_session,
            &self.list_sessions,
            &self.create_verification_token,
            &self.create_authenticator,
            &self.list_authenticators,
            &self.update_authenticator_counter,
        ]
    }
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    // KEYS: user, [email]. ARGV: id, field/value pairs of the user hash.
    // The email is claimed with SET NX before the user is written.
    create_user: Script::new(
        r"
if KEYS[2] and not redis.call('SET', KEYS[2], ARGV[1], 'NX') then
  return {ok = 'CONFLICT'}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return {ok = 'OK'}
",
    ),

    // KEYS: email. ARGV: key base. Reply: the user hash, or nil.
    get_user_by_email: Script::new(
        r"
local id = redis.call('GET', KEYS[1])
if not id then return false end
return redis.call('HGETALL', ARGV[1] .. 'user:' .. id)
",
    ),

    // KEYS: account. ARGV: key base. Reply: the owner's user hash, or nil.
    get_user_by_account: Script::new(
        r"
local id = redis.call('HGET', KEYS[1], 'userId')
if not id then return false end
return redis.call('HGETALL', ARGV[1] .. 'user:' .. id)
",
    ),

    // KEYS: user, [new email]. ARGV: key base, id, email mode (keep | set |
    // clear), n, n field/value pairs to set, then fields to delete.
    // Reply: NOTFOUND, CONFLICT (nothing changed), or the updated user hash.
    update_user: Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {ok = 'NOTFOUND'} end
local base, id, mode = ARGV[1], ARGV[2], ARGV[3]
if mode ~= 'keep' then
  if mode == 'set' then
    local owner = redis.call('GET', KEYS[2])
    if owner and owner ~= id then return {ok = 'CONFLICT'} end
  end
  local old = redis.call('HGET', KEYS[1], 'email')
  if old then
    local old_key = base .. 'email:' .. old
    if (mode == 'clear' or old_key ~= KEYS[2]) and redis.call('GET', old_key) == id then
      redis.call('DEL', old_key)
    end
  end
  if mode == 'set' then redis.call('SET', KEYS[2], id) end
end
local n = tonumber(ARGV[4])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 5, 4 + 2 * n)) end
if #ARGV > 4 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 5 + 2 * n)) end
return redis.call('HGETALL', KEYS[1])
",
    ),

    // KEYS: user, user-sessions, user-accounts, user-authenticators.
    // ARGV: key base, id. Reply: the removed user hash, or nil.
    // Each dependent key is removed only if it still names this user.
    delete_user: Script::new(
        r"
local user = redis.call('HGETALL', KEYS[1])
if #user == 0 then return false end
local base, id = ARGV[1], ARGV[2]
local email = redis.call('HGET', KEYS[1], 'email')
if email and redis.call('GET', base .. 'email:' .. email) == id then
  redis.call('DEL', base .. 'email:' .. email)
end
local function remove_owned(members, kind)
  for _, member in ipairs(members) do
    local key = base .. kind .. member
    if redis.call('HGET', key, 'userId') == id then redis.call('DEL', key) end
  end
end
remove_owned(redis.call('ZRANGE', KEYS[2], 0, -1), 'session:')
remove_owned(redis.call('SMEMBERS', KEYS[3]), 'account:')
remove_owned(redis.call('SMEMBERS', KEYS[4]), 'authenticator:')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return user
",
    ),

    // KEYS: user, account, user-accounts. ARGV: index member, field/value
    // pairs of the account hash. Reply: NOTFOUND, CONFLICT or OK.
    link_account: Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {ok = 'NOTFOUND'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {ok = 'CONFLICT'} end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
redis.call('SADD', KEYS[3], ARGV[1])
return {ok = 'OK'}
",
    ),

    // KEYS: account. ARGV: key base, index member.
    // Reply: the removed account hash, or nil.
    unlink_account: Script::new(
        r"
local account = redis.call('HGETALL', KEYS[1])
if #account == 0 then return false end
local owner = redis.call('HGET', KEYS[1], 'userId')
redis.call('DEL', KEYS[1])
if owner then redis.call('SREM', ARGV[1] .. 'user-accounts:' .. owner, ARGV[2]) end
return account
",
    ),

    // KEYS: user-accounts. ARGV: key base, user id.
    // Reply: an array of account hashes. Only accounts that still name this
    // user are listed, should the index hold a stale member.
    list_accounts: Script::new(
        r"
local found = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. 'account:' .. member
  if redis.call('HGET', key, 'userId') == ARGV[2] then
    found[#found + 1] = redis.call('HGETALL', key)
  end
end
return found
",
    ),

    // KEYS: user, session, user-sessions. ARGV: token, user id, expires
    // (unix ms), now (unix ms). Reply: NOTFOUND, CONFLICT or OK. A session
    // that has already expired is not written at all.
    create_session: Script::new(&format!(
        "{PRUNE_SESSION_INDEX}{}",
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {ok = 'NOTFOUND'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {ok = 'CONFLICT'} end
local now = tonumber(ARGV[4])
if tonumber(ARGV[3]) > now then
  redis.call('HSET', KEYS[2], 'v', '1', 'userId', ARGV[2], 'expires', ARGV[3])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
end
prune_session_index(KEYS[3], now)
return {ok = 'OK'}
"
    )),

    // KEYS: session. ARGV: key base. Reply: nil, or [session hash, user hash].
    get_session_and_user: Script::new(
        r"
local session = redis.call('HGETALL', KEYS[1])
if #session == 0 then return false end
for i = 1, #session, 2 do
  if session[i] == 'userId' then
    return {session, redis.call('HGETALL', ARGV[1] .. 'user:' .. session[i + 1])}
  end
end
return {session, {}}
",
    ),

    // KEYS: session. ARGV: key base, token, has expires (0|1), expires,
    // has user (0|1), user id, now (unix ms). Reply: nil (unknown token, or
    // a session that has expired: it is left as it is, never revived),
    // NOTFOUND (no such new user; nothing changed), or the updated session
    // hash. A session moved into the past is removed, and its hash is still
    // returned.
    update_session: Script::new(&format!(
        "{PRUNE_SESSION_INDEX}{}",
        r"
local old_user = redis.call('HGET', KEYS[1], 'userId')
if not old_user then return false end
local now = tonumber(ARGV[7])
local stored = tonumber(redis.call('HGET', KEYS[1], 'expires'))
if not stored or stored <= now then return false end
local base, token = ARGV[1], ARGV[2]
local user, expires = old_user, redis.call('HGET', KEYS[1], 'expires')
if ARGV[5] == '1' then
  user = ARGV[6]
  if redis.call('EXISTS', base .. 'user:' .. user) == 0 then return {ok = 'NOTFOUND'} end
end
if ARGV[3] == '1' then expires = ARGV[4] end
local index = base .. 'user-sessions:' .. user
if user ~= old_user then
  redis.call('ZREM', base .. 'user-sessions:' .. old_user, token)
end
redis.call('HSET', KEYS[1], 'userId', user, 'expires', expires)
local session = redis.call('HGETALL', KEYS[1])
if tonumber(expires) > now then
  redis.call('PEXPIREAT', KEYS[1], expires)
  redis.call('ZADD', index, expires, token)
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', index, token)
end
prune_session_index(index, now)
return session
"
    )),

    // KEYS: session. ARGV: key base, token.
    // Reply: the removed session hash, or nil.
    delete_session: Script::new(
        r"
local session = redis.call('HGETALL', KEYS[1])
if #session == 0 then return false end
local owner = redis.call('HGET', KEYS[1], 'userId')
redis.call('DEL', KEYS[1])
if owner then redis.call('ZREM', ARGV[1] .. 'user-sessions:' .. owner, ARGV[2]) end
return session
",
    ),

    // KEYS: user-sessions. ARGV: key base, user id, now (unix ms).
    // Reply: an array of [token, session hash] pairs: the sessions of the
    // index that expire after `now` and still name this user. Read only:
    // the index is pruned by the session writes.
    list_sessions: Script::new(
        r"
local found = {}
local live = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[3], '+inf', 'BYSCORE')
for _, token in ipairs(live) do
  local key = ARGV[1] .. 'session:' .. token
  local expires = tonumber(redis.call('HGET', key, 'expires'))
  if expires and expires > tonumber(ARGV[3])
      and redis.call('HGET', key, 'userId') == ARGV[2] then
    found[#found + 1] = {token, redis.call('HGETALL', key)}
  end
end
return found
",
    ),

    // KEYS: verification token. ARGV: stored value, expires (unix ms), now
    // (unix ms). Reply: CONFLICT or OK. A token that has already expired is
    // not written.
    create_verification_token: Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {ok = 'CONFLICT'} end
if tonumber(ARGV[2]) > tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
end
return {ok = 'OK'}
",
    ),

    // KEYS: user, authenticator, user-authenticators. ARGV: credential id,
    // field/value pairs of the authenticator hash.
    // Reply: NOTFOUND, CONFLICT or OK.
    create_authenticator: Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {ok = 'NOTFOUND'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {ok = 'CONFLICT'} end
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
redis.call('SADD', KEYS[3], ARGV[1])
return {ok = 'OK'}
",
    ),

    // KEYS: user-authenticators. ARGV: key base.
    // Reply: an array of authenticator hashes.
    list_authenticators: Script::new(
        r"
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local authenticator = redis.call('HGETALL', ARGV[1] .. 'authenticator:' .. id)
  if #authenticator > 0 then found[#found + 1] = authenticator end
end
return found
",
    ),

    // KEYS: authenticator. ARGV: counter.
    // Reply: NOTFOUND, or the updated authenticator hash.
    update_authenticator_counter: Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {ok = 'NOTFOUND'} end
redis.call('HSET', KEYS[1], 'counter', ARGV[1])
return redis.call('HGETALL', KEYS[1])
",
    ),

    // KEYS: any key of the namespace (it routes the call to the namespace's
    // slot). ARGV: a SCAN pattern matching every key of the namespace, the
    // SCAN cursor to go on from ('0' to start). Reply: [next cursor ('0'
    // when the scan is complete), keys removed]. One call scans at most
    // 100 pages of 1,000 keys, so the node serves others between calls.
    clear_namespace: Script::new(
        r"
local cursor, removed, pages = ARGV[2], 0, 0
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = page[1]
  pages = pages + 1
  if #page[2] > 0 then
    removed = removed + redis.call('UNLINK', unpack(page[2]))
  end
until cursor == '0' or pages >= 100
return {cursor, removed}
",
    ),
});
