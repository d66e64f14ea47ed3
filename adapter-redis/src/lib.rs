#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod keys;
mod record;
mod scripts;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::timestamp::{to_unix_millis, truncate_to_millis};
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken, with_timeout,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, IntoConnectionInfo, ScriptInvocation, Value};
use time::OffsetDateTime;

use keys::{Keys, glob_escape};
use record::{
    RECORD_VERSION, Record, account_fields, authenticator_fields, decode_account,
    decode_authenticator, decode_session, decode_user, push_fields, stored_instant, user_fields,
};
use scripts::SCRIPTS;

/// The `redis` crate this adapter is built with, for
/// [`RedisAdapter::from_connection_manager`] and
/// [`RedisAdapter::from_cluster`].
pub use redis;

/// The key prefix used when none is given.
pub const DEFAULT_PREFIX: &str = "authjs";

/// The oldest server this adapter runs on: `GETDEL`, `SET .. PXAT` and
/// `ZRANGE` with `WITHSCORES` on negative ranges need Redis 6.2.
const MIN_SERVER_VERSION: (u32, u32) = (6, 2);

// ------------------------------------------------------------------ options

/// Where and how [`RedisAdapter::connect_with`] connects (one server, or
/// the nodes of a Redis Cluster), how many multiplexed connections it
/// opens, the time limits, and under which key prefix (namespace) the
/// adapter keeps its records.
///
/// ```
/// use std::time::Duration;
/// use adapter_redis::RedisOptions;
///
/// let options = RedisOptions::from_url("redis://127.0.0.1:6379")?
///     .namespace("myapp")
///     .pool_size(4)
///     .response_timeout(Duration::from_secs(2))
///     .operation_timeout(Duration::from_secs(4));
/// assert_eq!(options.namespace_value(), "myapp");
/// assert!(!options.is_cluster());
///
/// // A comma-separated list of node URLs is a Redis Cluster.
/// let cluster = RedisOptions::from_url("redis://10.0.0.1:7001,redis://10.0.0.2:7002")?;
/// assert!(cluster.is_cluster());
/// # Ok::<(), auth_core::AdapterError>(())
/// ```
///
/// `Debug` leaves out the URLs, which may hold a password.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisOptions {
    nodes: Vec<String>,
    cluster: bool,
    prefix: String,
    pool_size: usize,
    connection_timeout: Duration,
    response_timeout: Duration,
    operation_timeout: Duration,
}

impl fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOptions")
            .field("nodes", &self.nodes.len())
            .field("cluster", &self.cluster)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool_size)
            .field("connection_timeout", &self.connection_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .finish()
    }
}

/// The default time one connection attempt may take: 5 s.
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// The default time the server may take to answer one command: 5 s.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default limit of one adapter call (and of connecting): 10 s.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for RedisOptions {
    /// No URL (for [`RedisAdapter::connect_cluster_with`] and
    /// [`RedisAdapter::from_connection_manager_with`]; use
    /// [`RedisOptions::from_url`] to connect), prefix [`DEFAULT_PREFIX`],
    /// one connection, 5 s to connect, 5 s per response, 10 s per adapter
    /// call.
    fn default() -> Self {
        Self {
            nodes: Vec::new(),
            cluster: false,
            prefix: DEFAULT_PREFIX.to_owned(),
            pool_size: 1,
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
        }
    }
}

impl RedisOptions {
    /// The defaults, without a URL: prefix [`DEFAULT_PREFIX`], one
    /// connection, 5 s to connect ([`DEFAULT_CONNECTION_TIMEOUT`]), 5 s per
    /// response ([`DEFAULT_RESPONSE_TIMEOUT`]; the `redis` crate's own
    /// defaults, 1 s and 500 ms, are too short for a busy CI machine and for
    /// `delete_user` of a user with many sessions), 10 s per adapter call
    /// ([`DEFAULT_OPERATION_TIMEOUT`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The defaults, connecting to `url`: one server
    /// (`redis://[user:password@]host:port[/db]`, or `rediss://` for TLS
    /// with this crate's `tls` feature), or a Redis Cluster when `url` is a
    /// comma-separated list of node URLs (any of its nodes will do; a
    /// single node URL is a cluster with [`cluster`](Self::cluster)).
    ///
    /// Errors: `InvalidInput` (field `url`) for an empty list or a URL the
    /// `redis` crate rejects (a `rediss://` URL without the `tls` feature).
    /// The message never quotes the URL.
    pub fn from_url(url: &str) -> Result<Self> {
        let nodes: Vec<String> = url
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect();
        if nodes.is_empty() {
            return Err(AdapterError::invalid_input("url", "no Redis URL given"));
        }
        for node in &nodes {
            node.as_str()
                .into_connection_info()
                .map_err(|_| AdapterError::invalid_input("url", "not a valid Redis URL"))?;
        }
        Ok(Self {
            cluster: nodes.len() > 1,
            nodes,
            ..Self::default()
        })
    }

    /// Whether the URL names a Redis Cluster (through any of its nodes)
    /// rather than one server. Default: `true` for a list of several URLs.
    pub fn cluster(mut self, cluster: bool) -> Self {
        self.cluster = cluster;
        self
    }

    /// The key prefix: the namespace of this adapter's records. Every key
    /// starts with `{prefix}:`. It must be non-empty and must not contain
    /// `{` or `}` (it is the cluster hash tag); [`RedisAdapter`]'s
    /// constructors refuse it with `InvalidInput` otherwise. Default
    /// [`DEFAULT_PREFIX`].
    pub fn namespace(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The same as [`namespace`](Self::namespace).
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        self.namespace(prefix)
    }

    /// How many multiplexed connections [`RedisAdapter::connect_with`]
    /// opens; calls take them in turn. Default 1: Redis pipelines
    /// concurrent calls on one connection, so more only help when one
    /// connection's socket is the bottleneck. Values below 1 count as 1.
    pub fn pool_size(mut self, connections: u32) -> Self {
        self.pool_size = usize::try_from(connections.max(1)).unwrap_or(usize::MAX);
        self
    }

    /// The limit of every adapter call (each method of
    /// [`Adapter`], [`RedisAdapter::migrate`],
    /// [`RedisAdapter::drop_namespace`]) and of connecting, reconnects and
    /// retries included. A call that runs out of time returns a `Backend`
    /// error for which [`is_timeout`](auth_core::AdapterError::is_timeout)
    /// is true. Default [`DEFAULT_OPERATION_TIMEOUT`] (10 s).
    pub fn operation_timeout(mut self, limit: Duration) -> Self {
        self.operation_timeout = limit;
        self
    }

    /// How long one connection attempt may take (the connection manager's
    /// and the cluster client's connection timeout). Default
    /// [`DEFAULT_CONNECTION_TIMEOUT`] (5 s).
    pub fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long the server may take to answer one command or script (the
    /// connection manager's and the cluster client's response timeout); a
    /// late answer is a `Backend` error saying the command timed out.
    /// Default [`DEFAULT_RESPONSE_TIMEOUT`] (5 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The key prefix (namespace) these options carry.
    pub fn namespace_value(&self) -> &str {
        &self.prefix
    }

    /// The same as [`namespace_value`](Self::namespace_value).
    pub fn prefix_str(&self) -> &str {
        &self.prefix
    }

    /// Whether these options connect to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }
}

// ------------------------------------------------------------------ connect

/// The Redis adapter: single node through reconnecting
/// [`ConnectionManager`]s, or Redis Cluster through
/// [`ClusterConnection`]s. Cheap to clone; clones share the connections.
///
/// See the [crate documentation](crate) for the key layout, atomicity,
/// expiry and cluster costs.
#[derive(Clone)]
pub struct RedisAdapter {
    connection: Connection,
    keys: Keys,
    /// The limit of every public call.
    operation_timeout: Duration,
}

#[derive(Clone)]
enum Connection {
    Single(Pool<ConnectionManager>),
    Cluster(Pool<ClusterConnection>),
}

/// Multiplexed connections, taken in turn.
#[derive(Clone)]
struct Pool<C> {
    connections: Arc<[C]>,
    next: Arc<AtomicUsize>,
}

impl<C: Clone> Pool<C> {
    fn new(connections: Vec<C>) -> Self {
        Self {
            connections: connections.into(),
            next: Arc::default(),
        }
    }

    fn one(connection: C) -> Self {
        Self::new(vec![connection])
    }

    /// The next connection (a clone: they are handles to one multiplexed
    /// connection).
    fn take(&self) -> C {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        self.connections[i].clone()
    }
}

impl fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mode, connections) = match &self.connection {
            Connection::Single(p) => ("single node", p.connections.len()),
            Connection::Cluster(p) => ("cluster", p.connections.len()),
        };
        f.debug_struct("RedisAdapter")
            .field("prefix", &self.keys.prefix)
            .field("mode", &mode)
            .field("connections", &connections)
            .field("operation_timeout", &self.operation_timeout)
            .finish()
    }
}

impl RedisAdapter {
    /// Connects to `url`: [`connect_with`](Self::connect_with) of
    /// [`RedisOptions::from_url`]`(url)`. One server
    /// (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS with
    /// the `tls` feature), or a Redis Cluster for a comma-separated list of
    /// node URLs.
    ///
    /// Errors: `InvalidInput` for a URL that does not parse; `Backend` when
    /// the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(RedisOptions::from_url(url)?).await
    }

    /// Connects with `options` (made by [`RedisOptions::from_url`]): to one
    /// server through [`pool_size`](RedisOptions::pool_size) reconnecting
    /// connection managers, or to a cluster.
    ///
    /// Errors: as [`connect`](Self::connect); `InvalidInput` for options
    /// without a URL or with a bad prefix.
    pub async fn connect_with(options: RedisOptions) -> Result<Self> {
        if options.nodes.is_empty() {
            return Err(AdapterError::invalid_input(
                "url",
                "no Redis URL: make the options with `RedisOptions::from_url`",
            ));
        }
        if options.cluster {
            return Self::connect_cluster_with(&options.nodes, &options).await;
        }
        let keys = Keys::new(&options.prefix)?;
        install_tls_provider();
        let client = redis::Client::open(options.nodes[0].as_str())
            .map_err(|_| AdapterError::invalid_input("url", "not a valid Redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout));
        let connect = async {
            let mut managers = Vec::with_capacity(options.pool_size);
            for _ in 0..options.pool_size {
                let manager = ConnectionManager::new_with_config(client.clone(), config.clone())
                    .await
                    .map_err(backend)?;
                managers.push(manager);
            }
            Ok(managers)
        };
        let managers = with_timeout(options.operation_timeout, "connect", connect).await?;
        Ok(Self {
            connection: Connection::Single(Pool::new(managers)),
            keys,
            operation_timeout: options.operation_timeout,
        })
    }

    /// Connects to a Redis Cluster through any of its `nodes` (URLs as for
    /// [`connect`](Self::connect)) with the default [`RedisOptions`].
    /// `connect("redis://a:7001,redis://b:7002")` does the same.
    ///
    /// Errors: `InvalidInput` for a URL that does not parse; `Backend` when
    /// no node can be reached or the cluster is not serving all slots.
    pub async fn connect_cluster<I, S>(nodes: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::connect_cluster_with(nodes, &RedisOptions::default()).await
    }

    /// Connects to a Redis Cluster through any of its `nodes` with the
    /// prefix, pool size and time limits of `options` (its URLs, if any,
    /// are not used).
    ///
    /// Errors: as [`connect_cluster`](Self::connect_cluster); `InvalidInput`
    /// for a bad prefix or an empty node list.
    pub async fn connect_cluster_with<I, S>(nodes: I, options: &RedisOptions) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let keys = Keys::new(&options.prefix)?;
        let nodes: Vec<String> = nodes.into_iter().map(|n| n.as_ref().to_owned()).collect();
        if nodes.is_empty() {
            return Err(AdapterError::invalid_input(
                "nodes",
                "at least one cluster node URL is needed",
            ));
        }
        install_tls_provider();
        let client = ClusterClient::builder(nodes)
            .connection_timeout(options.connection_timeout)
            .response_timeout(options.response_timeout)
            .build()
            .map_err(|_| AdapterError::invalid_input("nodes", "not a valid list of Redis URLs"))?;
        let connect = async {
            let mut connections = Vec::with_capacity(options.pool_size);
            for _ in 0..options.pool_size {
                connections.push(client.get_async_connection().await.map_err(backend)?);
            }
            Ok(connections)
        };
        let connections = with_timeout(options.operation_timeout, "connect", connect).await?;
        Ok(Self {
            connection: Connection::Cluster(Pool::new(connections)),
            keys,
            operation_timeout: options.operation_timeout,
        })
    }

    /// An adapter on an existing single-node [`ConnectionManager`] (its
    /// connection and response timeouts are whatever it was built with),
    /// under the default prefix [`DEFAULT_PREFIX`], with the default
    /// operation timeout (see
    /// [`with_operation_timeout`](Self::with_operation_timeout)).
    pub fn from_connection_manager(manager: ConnectionManager) -> Self {
        Self {
            connection: Connection::Single(Pool::one(manager)),
            keys: Keys::default_prefix(),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
        }
    }

    /// An adapter on an existing [`ClusterConnection`], under the default
    /// prefix [`DEFAULT_PREFIX`], with the default operation timeout.
    pub fn from_cluster(connection: ClusterConnection) -> Self {
        Self {
            connection: Connection::Cluster(Pool::one(connection)),
            keys: Keys::default_prefix(),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
        }
    }

    /// An adapter on an existing single-node [`ConnectionManager`] with the
    /// prefix and operation timeout of `options` (its URLs, pool size and
    /// connection timeouts are not used).
    ///
    /// Errors: `InvalidInput` for a bad prefix (see
    /// [`RedisOptions::namespace`]).
    pub fn from_connection_manager_with(
        manager: ConnectionManager,
        options: &RedisOptions,
    ) -> Result<Self> {
        Ok(Self {
            connection: Connection::Single(Pool::one(manager)),
            keys: Keys::new(&options.prefix)?,
            operation_timeout: options.operation_timeout,
        })
    }

    /// An adapter on an existing [`ClusterConnection`] with the prefix and
    /// operation timeout of `options`.
    ///
    /// Errors: `InvalidInput` for a bad prefix (see
    /// [`RedisOptions::namespace`]).
    pub fn from_cluster_with(
        connection: ClusterConnection,
        options: &RedisOptions,
    ) -> Result<Self> {
        Ok(Self {
            connection: Connection::Cluster(Pool::one(connection)),
            keys: Keys::new(&options.prefix)?,
            operation_timeout: options.operation_timeout,
        })
    }

    /// This adapter with another limit for each call (see
    /// [`RedisOptions::operation_timeout`]).
    pub fn with_operation_timeout(mut self, limit: Duration) -> Self {
        self.operation_timeout = limit;
        self
    }

    /// The key prefix (namespace) of this adapter.
    pub fn namespace(&self) -> &str {
        &self.keys.prefix
    }

    /// The same as [`namespace`](Self::namespace).
    pub fn prefix(&self) -> &str {
        &self.keys.prefix
    }

    /// Deletes every key of this adapter's namespace (see
    /// [`clear_namespace`](Self::clear_namespace)), under the operation
    /// timeout. Meant for tests and for retiring a namespace.
    ///
    /// Errors: `Backend` when the server cannot be reached.
    pub async fn drop_namespace(self) -> Result<()> {
        self.clear_namespace().await.map(drop)
    }
    /// Deletes every key of this adapter's namespace (every user, account,
    /// session, verification token and authenticator under its prefix) and
    /// returns how many keys it removed.
    ///
    /// Meant for tests and for retiring a namespace: it `SCAN`s the whole
    /// keyspace of the node holding the prefix, in scripts of at most 100,000
    /// scanned keys each, so that node keeps serving other clients between
    /// them (a namespace of millions of keys takes seconds, not one blocking
    /// script). Keys written to the namespace while it runs may survive.
    pub async fn clear_namespace(&self) -> Result<u64> {
        with_timeout(
            self.operation_timeout,
            "clear_namespace",
            self.clear_namespace_unbounded(),
        )
        .await
    }

    async fn clear_namespace_unbounded(&self) -> Result<u64> {
        let pattern = format!("{}*", glob_escape(&self.keys.base));
        let (mut cursor, mut removed) = (String::from("0"), 0u64);
        loop {
            let mut call = SCRIPTS.clear_namespace.prepare_invoke();
            call.key(self.keys.user("")).arg(&pattern).arg(&cursor);
            let reply = self.connection.invoke(&call).await?;
            let Value::Array(reply) = reply else {
                return Err(malformed("clear_namespace"));
            };
            match reply.as_slice() {
                [Value::BulkString(next), Value::Int(count)] => {
                    cursor = String::from_utf8(next.clone())
                        .map_err(|_| malformed("clear_namespace"))?;
                    removed += (*count).max(0) as u64;
                }
                _ => return Err(malformed("clear_namespace")),
            }
            if cursor == "0" {
                return Ok(removed);
            }
        }
    }

    /// Whether this adapter talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.connection, Connection::Cluster(_))
    }

    /// Checks that every server (every primary of a cluster) runs Redis 6.2
    /// or newer, and loads the adapter's scripts so that the first calls do
    /// not pay for a `NOSCRIPT` round trip. Redis needs no schema: this is
    /// idempotent and safe to run at every start. Scripts are reloaded on
    /// demand anyway (after a restart or `SCRIPT FLUSH`).
    ///
    /// Safe from any number of processes at once: it writes no data, and
    /// `SCRIPT LOAD` of the same script is idempotent (the script cache is
    /// keyed by the script's SHA1). Runs under the operation timeout.
    ///
    /// Errors: `Backend` when a server is older than 6.2 or cannot be reached.
    pub async fn migrate(&self) -> Result<()> {
        with_timeout(self.operation_timeout, "migrate", self.migrate_unbounded()).await
    }

    async fn migrate_unbounded(&self) -> Result<()> {
        let info = self
            .connection
            .query(redis::cmd("INFO").arg("server"))
            .await?;
        let mut texts = Vec::new();
        collect_text(&info, &mut texts);
        let versions: Vec<&str> = texts
            .iter()
            .flat_map(|t| t.lines())
            .filter_map(|line| line.trim().strip_prefix("redis_version:"))
            .collect();
        if versions.is_empty() {
            return Err(AdapterError::backend(
                "the server did not report its version (INFO server)",
            ));
        }
        for version in versions {
            let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
            let found = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
            if found < MIN_SERVER_VERSION {
                return Err(AdapterError::backend(format!(
                    "Redis {version} is too old: the adapter needs {}.{} or newer",
                    MIN_SERVER_VERSION.0, MIN_SERVER_VERSION.1
                )));
            }
        }
        for script in SCRIPTS.all() {
            self.connection.load(script).await?;
        }
        Ok(())
    }
}

impl Connection {
    async fn invoke(&self, invocation: &ScriptInvocation<'_>) -> Result<Value> {
        match self {
            Self::Single(p) => invocation.invoke_async(&mut p.take()).await,
            Self::Cluster(p) => invocation.invoke_async(&mut p.take()).await,
        }
        .map_err(backend)
    }

    async fn query(&self, cmd: &Cmd) -> Result<Value> {
        match self {
            Self::Single(p) => cmd.query_async(&mut p.take()).await,
            Self::Cluster(p) => cmd.query_async(&mut p.take()).await,
        }
        .map_err(backend)
    }

    /// Loads `script` into the server's cache (every primary of a cluster):
    /// the cache is the server's, so one connection does for all.
    async fn load(&self, script: &redis::Script) -> Result<()> {
        match self {
            Self::Single(p) => script.load_async(&mut p.take()).await,
            Self::Cluster(p) => script.load_async(&mut p.take()).await,
        }
        .map(drop)
        .map_err(backend)
    }
}

fn collect_text(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::BulkString(bytes) => out.push(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => out.push(s.clone()),
        Value::VerbatimString { text, .. } => out.push(text.clone()),
        Value::Array(items) | Value::Set(items) => {
            items.iter().for_each(|v| collect_text(v, out));
        }
        Value::Map(pairs) => pairs.iter().for_each(|(_, v)| collect_text(v, out)),
        _ => {}
    }
}

// ---------------------------------------------------------------- the trait

/// The calls of the trait, without the time limit.
impl RedisAdapter {
    async fn do_create_user(&self, user: NewUser) -> Result<User> {
        let id = auth_core::new_id();
        let user = User {
            email_verified: user.email_verified.map(truncate_to_millis),
            ..user.into_user(id)
        };
        let mut call = SCRIPTS.create_user.prepare_invoke();
        call.key(self.keys.user(&user.id));
        if let Some(email) = &user.email {
            call.key(self.keys.email(email));
        }
        call.arg(&user.id);
        push_fields(&mut call, &user_fields(&user));
        match reply(self.connection.invoke(&call).await?)? {
            Reply::Ok => Ok(user),
            Reply::Conflict => Err(AdapterError::conflict(Key::Email)),
            other => Err(other.unexpected("create_user")),
        }
    }

    async fn do_get_user(&self, id: &str) -> Result<Option<User>> {
        let value = self
            .connection
            .query(redis::cmd("HGETALL").arg(self.keys.user(id)))
            .await?;
        Record::decode("user", value)?.map(decode_user).transpose()
    }

    async fn do_get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let mut call = SCRIPTS.get_user_by_email.prepare_invoke();
        call.key(self.keys.email(email)).arg(&self.keys.base);
        let value = self.connection.invoke(&call).await?;
        Record::decode("user", value)?.map(decode_user).transpose()
    }

    async fn do_get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        let mut call = SCRIPTS.get_user_by_account.prepare_invoke();
        call.key(self.keys.account(provider, provider_account_id))
            .arg(&self.keys.base);
        let value = self.connection.invoke(&call).await?;
        Record::decode("user", value)?.map(decode_user).transpose()
    }

    async fn do_update_user(&self, update: UserUpdate) -> Result<User> {
        let mut set: Vec<(&'static str, String)> = Vec::new();
        let mut clear: Vec<&'static str> = Vec::new();
        let mut change = |field: &'static str, value: Option<Option<String>>| match value {
            Some(Some(v)) => set.push((field, v)),
            Some(None) => clear.push(field),
            None => {}
        };
        change("name", update.name.clone());
        change("email", update.email.clone());
        change(
            "emailVerified",
            update
                .email_verified
                .map(|t| t.map(|t| to_unix_millis(t).to_string())),
        );
        change("image", update.image.clone());

        let mut call = SCRIPTS.update_user.prepare_invoke();
        call.key(self.keys.user(&update.id));
        let mode = match &update.email {
            None => "keep",
            Some(None) => "clear",
            Some(Some(email)) => {
                call.key(self.keys.email(email));
                "set"
            }
        };
        call.arg(&self.keys.base)
            .arg(&update.id)
            .arg(mode)
            .arg(set.len());
        push_fields(&mut call, &set);
        for field in clear {
            call.arg(field);
        }
        match reply(self.connection.invoke(&call).await?)? {
            Reply::NotFound => Err(AdapterError::user_not_found(&update.id)),
            Reply::Conflict => Err(AdapterError::conflict(Key::Email)),
            Reply::Data(value) => match Record::decode("user", value)? {
                Some(record) => decode_user(record),
                None => Err(AdapterError::user_not_found(&update.id)),
            },
            other => Err(other.unexpected("update_user")),
        }
    }

    async fn do_delete_user(&self, id: &str) -> Result<Option<User>> {
        let mut call = SCRIPTS.delete_user.prepare_invoke();
        call.key(self.keys.user(id))
            .key(self.keys.user_sessions(id))
            .key(self.keys.user_accounts(id))
            .key(self.keys.user_authenticators(id))
            .arg(&self.keys.base)
            .arg(id);
        let value = self.connection.invoke(&call).await?;
        Record::decode("user", value)?.map(decode_user).transpose()
    }

    async fn do_link_account(&self, account: Account) -> Result<Account> {
        let mut call = SCRIPTS.link_account.prepare_invoke();
        call.key(self.keys.user(&account.user_id))
            .key(
                self.keys
                    .account(&account.provider, &account.provider_account_id),
            )
            .key(self.keys.user_accounts(&account.user_id))
            .arg(Keys::account_member(
                &account.provider,
                &account.provider_account_id,
            ));
        push_fields(&mut call, &account_fields(&account));
        match reply(self.connection.invoke(&call).await?)? {
            Reply::Ok => Ok(account),
            Reply::NotFound => Err(AdapterError::user_not_found(&account.user_id)),
            Reply::Conflict => Err(AdapterError::conflict(Key::ProviderAccountId)),
            other => Err(other.unexpected("link_account")),
        }
    }

    async fn do_unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let mut call = SCRIPTS.unlink_account.prepare_invoke();
        call.key(self.keys.account(provider, provider_account_id))
            .arg(&self.keys.base)
            .arg(Keys::account_member(provider, provider_account_id));
        let value = self.connection.invoke(&call).await?;
        Record::decode("account", value)?
            .map(decode_account)
            .transpose()
    }

    async fn do_get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let value = self
            .connection
            .query(redis::cmd("HGETALL").arg(self.keys.account(provider, provider_account_id)))
            .await?;
        Record::decode("account", value)?
            .map(decode_account)
            .transpose()
    }

    async fn do_list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        // One script: the user's account index, then each account hash.
        let mut call = SCRIPTS.list_accounts.prepare_invoke();
        call.key(self.keys.user_accounts(user_id))
            .arg(&self.keys.base)
            .arg(user_id);
        let Value::Array(items) = self.connection.invoke(&call).await? else {
            return Err(malformed("account list"));
        };
        let mut found = Vec::with_capacity(items.len());
        for item in items {
            if let Some(record) = Record::decode("account", item)? {
                found.push(decode_account(record)?);
            }
        }
        Ok(found)
    }

    async fn do_create_session(&self, session: Session) -> Result<Session> {
        let session = Session {
            expires: truncate_to_millis(session.expires),
            ..session
        };
        let mut call = SCRIPTS.create_session.prepare_invoke();
        call.key(self.keys.user(&session.user_id))
            .key(self.keys.session(&session.session_token))
            .key(self.keys.user_sessions(&session.user_id))
            .arg(&session.session_token)
            .arg(&session.user_id)
            .arg(to_unix_millis(session.expires))
            .arg(now_millis());
        match reply(self.connection.invoke(&call).await?)? {
            Reply::Ok => Ok(session),
            Reply::NotFound => Err(AdapterError::user_not_found(&session.user_id)),
            Reply::Conflict => Err(AdapterError::conflict(Key::SessionToken)),
            other => Err(other.unexpected("create_session")),
        }
    }

    async fn do_get_session_and_user(
        &self,
        session_token: &str,
    ) -> Result<Option<(Session, User)>> {
        let mut call = SCRIPTS.get_session_and_user.prepare_invoke();
        call.key(self.keys.session(session_token))
            .arg(&self.keys.base);
        let (session, user) = match self.connection.invoke(&call).await? {
            Value::Nil => return Ok(None),
            Value::Array(mut pair) if pair.len() == 2 => {
                let user = pair.pop().unwrap_or(Value::Nil);
                let session = pair.pop().unwrap_or(Value::Nil);
                (session, user)
            }
            _ => return Err(malformed("get_session_and_user")),
        };
        let Some(session) = Record::decode("session", session)? else {
            return Ok(None);
        };
        let session = decode_session(session_token, session)?;
        // Redis expires keys by its own clock, to the millisecond; this also
        // holds the line when the clocks of client and server differ.
        if is_expired(session.expires) {
            return Ok(None);
        }
        // A session always has its user (both change in the same scripts);
        // should one be missing anyway, the session is not valid.
        let Some(user) = Record::decode("user", user)? else {
            return Ok(None);
        };
        Ok(Some((session, decode_user(user)?)))
    }

    async fn do_update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        let expires = update.expires.map(to_unix_millis);
        let mut call = SCRIPTS.update_session.prepare_invoke();
        call.key(self.keys.session(&update.session_token))
            .arg(&self.keys.base)
            .arg(&update.session_token)
            .arg(u8::from(expires.is_some()))
            .arg(expires.unwrap_or_default())
            .arg(u8::from(update.user_id.is_some()))
            .arg(update.user_id.as_deref().unwrap_or_default())
            .arg(now_millis());
        match reply(self.connection.invoke(&call).await?)? {
            Reply::Data(value) => Record::decode("session", value)?
                .map(|r| decode_session(&update.session_token, r))
                .transpose(),
            Reply::NotFound => Err(AdapterError::user_not_found(
                update.user_id.as_deref().unwrap_or_default(),
            )),
            other => Err(other.unexpected("update_session")),
        }
    }

    async fn do_delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        let mut call = SCRIPTS.delete_session.prepare_invoke();
        call.key(self.keys.session(session_token))
            .arg(&self.keys.base)
            .arg(session_token);
        let value = self.connection.invoke(&call).await?;
        let session = Record::decode("session", value)?
            .map(|r| decode_session(session_token, r))
            .transpose()?;
        Ok(session.filter(|s| !is_expired(s.expires)))
    }

    async fn do_list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        // One script: the live range of the user's session index (scored by
        // expiry), then each session hash.
        let now = OffsetDateTime::now_utc();
        let mut call = SCRIPTS.list_sessions.prepare_invoke();
        call.key(self.keys.user_sessions(user_id))
            .arg(&self.keys.base)
            .arg(user_id)
            .arg(to_unix_millis(now));
        let Value::Array(items) = self.connection.invoke(&call).await? else {
            return Err(malformed("session list"));
        };
        let mut found = Vec::with_capacity(items.len());
        for item in items {
            let Value::Array(pair) = item else {
                return Err(malformed("session list"));
            };
            let [Value::BulkString(token), hash] =
                <[Value; 2]>::try_from(pair).map_err(|_| malformed("session list"))?
            else {
                return Err(malformed("session list"));
            };
            let token = String::from_utf8(token).map_err(|_| malformed("session list"))?;
            if let Some(record) = Record::decode("session", hash)? {
                let session = decode_session(&token, record)?;
                // Expiry by the caller's clock, read when the call started.
                if session.expires > now {
                    found.push(session);
                }
            }
        }
        Ok(found)
    }

    async fn do_create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let token = VerificationToken {
            expires: truncate_to_millis(token.expires),
            ..token
        };
        let expires = to_unix_millis(token.expires);
        let mut call = SCRIPTS.create_verification_token.prepare_invoke();
        call.key(
            self.keys
                .verification_token(&token.identifier, &token.token),
        )
        .arg(format!("{RECORD_VERSION}:{expires}"))
        .arg(expires)
        .arg(now_millis());
        match reply(self.connection.invoke(&call).await?)? {
            Reply::Ok => Ok(token),
            Reply::Conflict => Err(AdapterError::conflict(Key::IdentifierAndToken)),
            other => Err(other.unexpected("create_verification_token")),
        }
    }

    async fn do_use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        let value = self
            .connection
            .query(redis::cmd("GETDEL").arg(self.keys.verification_token(identifier, token)))
            .await?;
        let stored = match value {
            Value::Nil => return Ok(None),
            Value::BulkString(bytes) => bytes,
            _ => return Err(malformed("verification token")),
        };
        let expires = std::str::from_utf8(&stored)
            .ok()
            .and_then(|s| s.strip_prefix(RECORD_VERSION)?.strip_prefix(':'))
            .and_then(|ms| ms.parse::<i64>().ok())
            .ok_or_else(|| malformed("verification token"))?;
        let expires = stored_instant("expires", expires)?;
        if is_expired(expires) {
            return Ok(None);
        }
        Ok(Some(VerificationToken {
            identifier: identifier.to_owned(),
            token: token.to_owned(),
            expires,
        }))
    }

    async fn do_create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        let mut call = SCRIPTS.create_authenticator.prepare_invoke();
        call.key(self.keys.user(&authenticator.user_id))
            .key(self.keys.authenticator(&authenticator.credential_id))
            .key(self.keys.user_authenticators(&authenticator.user_id))
            .arg(&authenticator.credential_id);
        push_fields(&mut call, &authenticator_fields(&authenticator));
        match reply(self.connection.invoke(&call).await?)? {
            Reply::Ok => Ok(authenticator),
            Reply::NotFound => Err(AdapterError::user_not_found(&authenticator.user_id)),
            Reply::Conflict => Err(AdapterError::conflict(Key::CredentialId)),
            other => Err(other.unexpected("create_authenticator")),
        }
    }

    async fn do_get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        let value = self
            .connection
            .query(redis::cmd("HGETALL").arg(self.keys.authenticator(credential_id)))
            .await?;
        Record::decode("authenticator", value)?
            .map(decode_authenticator)
            .transpose()
    }

    async fn do_list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        let mut call = SCRIPTS.list_authenticators.prepare_invoke();
        call.key(self.keys.user_authenticators(user_id))
            .arg(&self.keys.base);
        let Value::Array(items) = self.connection.invoke(&call).await? else {
            return Err(malformed("authenticator list"));
        };
        let mut found = Vec::with_capacity(items.len());
        for item in items {
            if let Some(record) = Record::decode("authenticator", item)? {
                found.push(decode_authenticator(record)?);
            }
        }
        Ok(found)
    }

    async fn do_update_authenticator_counter(
        &self,
        credential_id: &str,
        counter: u32,
    ) -> Result<Authenticator> {
        let mut call = SCRIPTS.update_authenticator_counter.prepare_invoke();
        call.key(self.keys.authenticator(credential_id))
            .arg(counter);
        let not_found = || {
            AdapterError::not_found(
                Entity::Authenticator,
                format!("credential id {credential_id:?}"),
            )
        };
        match reply(self.connection.invoke(&call).await?)? {
            Reply::NotFound => Err(not_found()),
            Reply::Data(value) => match Record::decode("authenticator", value)? {
                Some(record) => decode_authenticator(record),
                None => Err(not_found()),
            },
            other => Err(other.unexpected("update_authenticator_counter")),
        }
    }

    /// Redis removes expired sessions and verification tokens by itself
    /// (`PEXPIREAT`), and the per-user session indexes are pruned on every
    /// session write: there is nothing left to purge, so this returns 0
    /// without a round trip.
    async fn do_purge_expired(&self) -> Result<u64> {
        Ok(0)
    }
}

// ------------------------------------------------------------- trait impl

/// Every call runs under the adapter's operation time limit
/// (`operation_timeout` of its options): when the server stalls, the call
/// returns a `Backend` error for which `is_timeout()` is true.
#[async_trait]
impl Adapter for RedisAdapter {
    async fn create_user(&self, user: NewUser) -> Result<User> {
        with_timeout(
            self.operation_timeout,
            "create_user",
            self.do_create_user(user),
        )
        .await
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        with_timeout(self.operation_timeout, "get_user", self.do_get_user(id)).await
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        with_timeout(
            self.operation_timeout,
            "get_user_by_email",
            self.do_get_user_by_email(email),
        )
        .await
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        with_timeout(
            self.operation_timeout,
            "get_user_by_account",
            self.do_get_user_by_account(provider, provider_account_id),
        )
        .await
    }

    async fn update_user(&self, update: UserUpdate) -> Result<User> {
        with_timeout(
            self.operation_timeout,
            "update_user",
            self.do_update_user(update),
        )
        .await
    }

    async fn delete_user(&self, id: &str) -> Result<Option<User>> {
        with_timeout(
            self.operation_timeout,
            "delete_user",
            self.do_delete_user(id),
        )
        .await
    }

    async fn link_account(&self, account: Account) -> Result<Account> {
        with_timeout(
            self.operation_timeout,
            "link_account",
            self.do_link_account(account),
        )
        .await
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        with_timeout(
            self.operation_timeout,
            "unlink_account",
            self.do_unlink_account(provider, provider_account_id),
        )
        .await
    }

    async fn get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        with_timeout(
            self.operation_timeout,
            "get_account",
            self.do_get_account(provider, provider_account_id),
        )
        .await
    }

    async fn list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        with_timeout(
            self.operation_timeout,
            "list_accounts_by_user_id",
            self.do_list_accounts_by_user_id(user_id),
        )
        .await
    }

    async fn create_session(&self, session: Session) -> Result<Session> {
        with_timeout(
            self.operation_timeout,
            "create_session",
            self.do_create_session(session),
        )
        .await
    }

    async fn get_session_and_user(&self, session_token: &str) -> Result<Option<(Session, User)>> {
        with_timeout(
            self.operation_timeout,
            "get_session_and_user",
            self.do_get_session_and_user(session_token),
        )
        .await
    }

    async fn update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        with_timeout(
            self.operation_timeout,
            "update_session",
            self.do_update_session(update),
        )
        .await
    }

    async fn delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        with_timeout(
            self.operation_timeout,
            "delete_session",
            self.do_delete_session(session_token),
        )
        .await
    }

    async fn list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        with_timeout(
            self.operation_timeout,
            "list_sessions_by_user_id",
            self.do_list_sessions_by_user_id(user_id),
        )
        .await
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        with_timeout(
            self.operation_timeout,
            "create_verification_token",
            self.do_create_verification_token(token),
        )
        .await
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        with_timeout(
            self.operation_timeout,
            "use_verification_token",
            self.do_use_verification_token(identifier, token),
        )
        .await
    }

    async fn create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        with_timeout(
            self.operation_timeout,
            "create_authenticator",
            self.do_create_authenticator(authenticator),
        )
        .await
    }

    async fn get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        with_timeout(
            self.operation_timeout,
            "get_authenticator",
            self.do_get_authenticator(credential_id),
        )
        .await
    }

    async fn list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        with_timeout(
            self.operation_timeout,
            "list_authenticators_by_user_id",
            self.do_list_authenticators_by_user_id(user_id),
        )
        .await
    }

    async fn update_authenticator_counter(
        &self,
        credential_id: &str,
        new_counter: u32,
    ) -> Result<Authenticator> {
        with_timeout(
            self.operation_timeout,
            "update_authenticator_counter",
            self.do_update_authenticator_counter(credential_id, new_counter),
        )
        .await
    }

    async fn purge_expired(&self) -> Result<u64> {
        with_timeout(
            self.operation_timeout,
            "purge_expired",
            self.do_purge_expired(),
        )
        .await
    }
}

fn is_expired(expires: OffsetDateTime) -> bool {
    expires <= OffsetDateTime::now_utc()
}

/// The caller's clock, as the scripts take it: unix milliseconds.
fn now_millis() -> i64 {
    to_unix_millis(OffsetDateTime::now_utc())
}

// ----------------------------------------------------------- error mapping

/// What a script answered: a status, or data.
enum Reply {
    Ok,
    Conflict,
    NotFound,
    Data(Value),
}

fn reply(value: Value) -> Result<Reply> {
    Ok(match value {
        Value::Okay => Reply::Ok,
        Value::SimpleString(status) => match status.as_str() {
            "OK" => Reply::Ok,
            "CONFLICT" => Reply::Conflict,
            "NOTFOUND" => Reply::NotFound,
            _ => return Err(malformed("script status")),
        },
        data => Reply::Data(data),
    })
}

impl Reply {
    fn unexpected(self, method: &str) -> AdapterError {
        malformed(method)
    }
}

pub(crate) fn malformed(what: &str) -> AdapterError {
    AdapterError::backend(format!("unexpected reply from Redis for {what}"))
}

/// Connection, protocol, timeout and script errors. Redis error messages
/// name the command and the problem, not the key or its value; the adapter
/// never decodes replies through the `redis` crate's typed conversions,
/// whose errors print the offending value.
fn backend(error: redis::RedisError) -> AdapterError {
    AdapterError::backend(error)
}

/// With the `tls` feature: makes `ring` the process's rustls crypto
/// provider unless one is installed already, so `rediss://` works whatever
/// other crates enable in rustls. Without it: nothing.
fn install_tls_provider() {
    #[cfg(feature = "tls")]
    {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
