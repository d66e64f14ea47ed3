#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod codec;
mod error;

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::timestamp::truncate_to_millis;
use auth_core::{
    Account, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Result, Session,
    SessionUpdate, User, UserUpdate, VerificationToken, with_timeout,
};
use bson::oid::ObjectId;
use bson::{Document, doc};
use futures::{FutureExt, TryStreamExt};
use mongodb::options::{ClientOptions, ConnectionString, IndexOptions, ReturnDocument};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};
use time::OffsetDateTime;

use codec::{
    counter, date, number, opt_date, opt_str, parse_id, read_account, read_authenticator,
    read_session, read_user, read_verification_token, sub_document,
};
pub use error::MongoError;
use error::{backend, server_code, write_error};

/// The `bson` crate this adapter is built with (documents, `ObjectId`).
pub use bson;
/// The `mongodb` driver this adapter is built with, for
/// [`MongodbAdapter::from_client`] and raw access to the collections.
pub use mongodb;

/// The database used when the connection string names none.
pub const DEFAULT_DATABASE: &str = "auth";

/// Collection of users, as the Auth.js MongoDB adapter names it.
pub const USERS: &str = "users";
/// Collection of provider accounts, as the Auth.js MongoDB adapter names it.
pub const ACCOUNTS: &str = "accounts";
/// Collection of sessions, as the Auth.js MongoDB adapter names it.
pub const SESSIONS: &str = "sessions";
/// Collection of verification tokens, as the Auth.js MongoDB adapter names it.
pub const VERIFICATION_TOKENS: &str = "verification_tokens";
/// Collection of passkey authenticators: ours, shaped like the Prisma model
/// (the official MongoDB adapter has none).
pub const AUTHENTICATORS: &str = "authenticators";

/// A field that exists only inside a transaction that claims a user: set and
/// removed again in one `update` command, so the committed user document is
/// unchanged but the write conflicts with a concurrent `delete_user`.
const CLAIM_FIELD: &str = "__authjs_rs_claim";

/// How often `migrate` retries an index creation that raced another process.
const MIGRATE_RETRIES: u64 = 5;

// ------------------------------------------------------------------ options

/// Where and how [`MongodbAdapter::connect_with`] connects: the connection
/// string, the database (the adapter's namespace), the pool size, time
/// limits, and whether the adapter may use transactions.
///
/// ```
/// use std::time::Duration;
/// use adapter_mongodb::MongoOptions;
///
/// let options = MongoOptions::from_url("mongodb://127.0.0.1:27017/myapp")?
///     .namespace("tenant_a")
///     .pool_size(16)
///     .operation_timeout(Duration::from_secs(3))
///     .server_selection_timeout(Duration::from_secs(2));
/// assert_eq!(options.namespace_value(), "tenant_a");
/// assert_eq!(options.operation_timeout_value(), Duration::from_secs(3));
/// # Ok::<(), auth_core::AdapterError>(())
/// ```
///
/// `Debug` leaves out the connection string, which may hold a password.
#[derive(Clone, PartialEq)]
pub struct MongoOptions {
    url: Option<ConnectionString>,
    database: Option<String>,
    pool_size: Option<u32>,
    operation_timeout: Duration,
    server_selection_timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    transactions: bool,
}

impl fmt::Debug for MongoOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoOptions")
            .field("namespace", &self.namespace_value())
            .field("pool_size", &self.pool_size)
            .field("operation_timeout", &self.operation_timeout)
            .field("server_selection_timeout", &self.server_selection_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("transactions", &self.transactions)
            .finish_non_exhaustive()
    }
}

impl Default for MongoOptions {
    /// No connection string (for [`MongodbAdapter::from_client_with`]; use
    /// [`MongoOptions::from_url`] to connect); database [`DEFAULT_DATABASE`];
    /// 10 s per call; server selection and connect timeouts as the
    /// connection string says, else 5 s each; transactions where the
    /// deployment runs them.
    fn default() -> Self {
        Self {
            url: None,
            database: None,
            pool_size: None,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            server_selection_timeout: None,
            connect_timeout: None,
            transactions: true,
        }
    }
}

/// The default limit of one adapter call: 10 s.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The default server selection and connect timeouts of
/// [`MongodbAdapter::connect_with`] when the connection string sets none: 5 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl MongoOptions {
    /// The defaults (see [`Default`](#impl-Default-for-MongoOptions)),
    /// without a connection string: for
    /// [`MongodbAdapter::from_client_with`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The defaults, connecting with the MongoDB connection string `url`
    /// (`mongodb://host:27017/mydb?replicaSet=rs0`, `mongodb+srv://...`,
    /// with the driver's options: credentials, TLS, `maxPoolSize`,
    /// timeouts). The database is the one the string names, else
    /// [`DEFAULT_DATABASE`], unless [`namespace`](Self::namespace) sets it.
    ///
    /// Errors: `InvalidInput` (field `url`) for a string the driver rejects.
    /// A `mongodb+srv://` string is resolved (DNS) only when connecting.
    pub fn from_url(url: &str) -> Result<Self> {
        let parsed = ConnectionString::parse(url)
            .map_err(|e| AdapterError::invalid_input("url", MongoError(e).to_string()))?;
        Ok(Self {
            url: Some(parsed),
            ..Self::default()
        })
    }

    /// The database holding the collections: the adapter's namespace (two
    /// adapters on different databases share nothing). Default: the
    /// connection string's database, else [`DEFAULT_DATABASE`].
    pub fn namespace(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// The most connections the driver's pool opens (its `maxPoolSize`).
    /// Default: the connection string's `maxPoolSize`, else the driver's
    /// (10). Applies to [`MongodbAdapter::connect_with`].
    pub fn pool_size(mut self, connections: u32) -> Self {
        self.pool_size = Some(connections);
        self
    }

    /// The limit of every adapter call (each method of
    /// [`Adapter`], [`MongodbAdapter::migrate`] and
    /// [`MongodbAdapter::drop_namespace`]),
    /// retries and transactions included. A call that runs out of time
    /// returns a `Backend` error for which
    /// [`is_timeout`](auth_core::AdapterError::is_timeout) is true. Default
    /// [`DEFAULT_OPERATION_TIMEOUT`] (10 s).
    pub fn operation_timeout(mut self, limit: Duration) -> Self {
        self.operation_timeout = limit;
        self
    }

    /// How long the driver looks for a suitable server before it gives up
    /// (the driver's `serverSelectionTimeoutMS`), for
    /// [`MongodbAdapter::connect_with`]. Default: the connection string's
    /// value, else [`DEFAULT_CONNECT_TIMEOUT`] (5 s).
    pub fn server_selection_timeout(mut self, limit: Duration) -> Self {
        self.server_selection_timeout = Some(limit);
        self
    }

    /// How long opening one connection may take (the driver's
    /// `connectTimeoutMS`), for [`MongodbAdapter::connect_with`]. Default:
    /// the connection string's value, else [`DEFAULT_CONNECT_TIMEOUT`] (5 s).
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = Some(limit);
        self
    }

    /// Whether the adapter may use multi-document transactions where the
    /// deployment runs them (a replica set or a sharded cluster; the adapter
    /// asks the server once with `hello`). Default `true`. With `false` it
    /// always takes the path of a standalone server (write, then check
    /// again and undo; see the crate README), which is safe everywhere but
    /// not all or nothing.
    pub fn transactions(mut self, allowed: bool) -> Self {
        self.transactions = allowed;
        self
    }

    /// The limit of one adapter call these options carry.
    pub fn operation_timeout_value(&self) -> Duration {
        self.operation_timeout
    }

    /// The database (namespace) these options name: the one set with
    /// [`namespace`](Self::namespace), else the connection string's, else
    /// [`DEFAULT_DATABASE`].
    pub fn namespace_value(&self) -> &str {
        self.database
            .as_deref()
            .or_else(|| self.url.as_ref()?.default_database.as_deref())
            .unwrap_or(DEFAULT_DATABASE)
    }
}

// ------------------------------------------------------------------ adapter

/// The MongoDB adapter: users, accounts, sessions, verification tokens and
/// authenticators in one database, in the layout of the Auth.js MongoDB
/// adapter. See the [crate documentation](crate).
///
/// Cloning is cheap: clones share the driver's connection pool.
#[derive(Clone)]
pub struct MongodbAdapter {
    client: Client,
    database: Database,
    users: Collection<Document>,
    accounts: Collection<Document>,
    sessions: Collection<Document>,
    tokens: Collection<Document>,
    authenticators: Collection<Document>,
    /// Whether the deployment runs multi-document transactions (a replica
    /// set or a sharded cluster); asked once, on first need.
    transactions: std::sync::Arc<OnceLock<bool>>,
    /// `false`: never use transactions, even where the deployment has them.
    allow_transactions: bool,
    /// The limit of every public call.
    operation_timeout: Duration,
}

impl fmt::Debug for MongodbAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongodbAdapter")
            .field("database", &self.database.name())
            .field("transactions", &self.transactions.get())
            .field("allow_transactions", &self.allow_transactions)
            .field("operation_timeout", &self.operation_timeout)
            .finish_non_exhaustive()
    }
}

impl MongodbAdapter {
    /// Connects with a MongoDB connection string
    /// (`mongodb://host:27017/mydb?replicaSet=rs0`, `mongodb+srv://...`):
    /// [`connect_with`](Self::connect_with) of
    /// [`MongoOptions::from_url`]`(url)`. The database is the one the string
    /// names, else [`DEFAULT_DATABASE`]; pool size and timeouts are the
    /// string's options.
    ///
    /// The driver connects lazily: an unreachable server shows up as a
    /// `Backend` error on the first call (e.g. [`migrate`](Self::migrate)).
    ///
    /// Errors: `InvalidInput` (field `url`) for a string the driver rejects.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(MongoOptions::from_url(url)?).await
    }

    /// Connects with `options` (made by [`MongoOptions::from_url`]). The
    /// server selection and connect timeouts of `options` apply where set,
    /// else the string's, else [`DEFAULT_CONNECT_TIMEOUT`]; the pool size
    /// where set, else the string's `maxPoolSize`.
    ///
    /// Errors: `InvalidInput` (field `url`) for options without a
    /// connection string or a string the driver rejects; a `Backend`
    /// timeout if parsing (an `mongodb+srv://` DNS lookup) takes longer
    /// than the operation timeout.
    pub async fn connect_with(options: MongoOptions) -> Result<Self> {
        let Some(url) = options.url.clone() else {
            return Err(AdapterError::invalid_input(
                "url",
                "no connection string: make the options with `MongoOptions::from_url`",
            ));
        };
        let parse = async {
            ClientOptions::parse(url)
                .await
                .map_err(|e| AdapterError::invalid_input("url", MongoError(e).to_string()))
        };
        let mut client_options = with_timeout(options.operation_timeout, "connect", parse).await?;
        client_options.server_selection_timeout = options
            .server_selection_timeout
            .or(client_options.server_selection_timeout)
            .or(Some(DEFAULT_CONNECT_TIMEOUT));
        client_options.connect_timeout = options
            .connect_timeout
            .or(client_options.connect_timeout)
            .or(Some(DEFAULT_CONNECT_TIMEOUT));
        if options.pool_size.is_some() {
            client_options.max_pool_size = options.pool_size;
        }
        let database = options.namespace_value().to_owned();
        let client = Client::with_options(client_options)
            .map_err(|e| AdapterError::invalid_input("url", MongoError(e).to_string()))?;
        Ok(Self::from_client_with(client, &database, &options))
    }

    /// An adapter on an existing client with the default [`MongoOptions`],
    /// storing everything in `database` (its namespace: two adapters on
    /// different databases share nothing).
    pub fn from_client(client: Client, database: &str) -> Self {
        Self::from_client_with(client, database, &MongoOptions::default())
    }

    /// An adapter on an existing client, storing everything in `database`,
    /// with the operation timeout and transaction choice of `options` (the
    /// client keeps its own pool and driver timeouts; the connection
    /// string and namespace of `options` are not used).
    pub fn from_client_with(client: Client, database: &str, options: &MongoOptions) -> Self {
        let db = client.database(database);
        Self {
            users: db.collection(USERS),
            accounts: db.collection(ACCOUNTS),
            sessions: db.collection(SESSIONS),
            tokens: db.collection(VERIFICATION_TOKENS),
            authenticators: db.collection(AUTHENTICATORS),
            database: db,
            client,
            transactions: Default::default(),
            allow_transactions: options.transactions,
            operation_timeout: options.operation_timeout,
        }
    }

    /// The driver client, e.g. to share its pool with other code.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The database holding the collections.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The adapter's namespace: the name of its database.
    pub fn namespace(&self) -> &str {
        self.database.name()
    }

    /// Drops the adapter's database (every collection and index in it,
    /// whoever wrote them), under the operation timeout. Meant for tests
    /// and for retiring a namespace.
    ///
    /// Errors: `Backend` if the server is unreachable or refuses.
    pub async fn drop_namespace(self) -> Result<()> {
        let drop = async { self.database.drop().await.map_err(backend) };
        with_timeout(self.operation_timeout, "drop_namespace", drop).await
    }

    /// Creates every index the adapter relies on (see the crate README).
    /// Safe to run at every start, and from many processes at once on one
    /// fresh database: existing indexes with the same definition are left
    /// alone, and the errors a server may give when another process creates
    /// the same collection or index at the same instant (`NamespaceExists`,
    /// `IndexOptionsConflict`, `IndexKeySpecsConflict`, a duplicate key on
    /// the catalog) are retried, so the index is then found as it should be.
    /// Collections are created by the server on first use. Runs under the
    /// operation timeout.
    ///
    /// Errors: `Backend` if the server is unreachable or an index of the
    /// same name exists with another definition.
    pub async fn migrate(&self) -> Result<()> {
        with_timeout(self.operation_timeout, "migrate", self.create_indexes()).await
    }

    async fn create_indexes(&self) -> Result<()> {
        let unique = || IndexOptions::builder().unique(true).build();
        let ttl = || {
            IndexOptions::builder()
                .expire_after(std::time::Duration::ZERO)
                .build()
        };
        let index = |keys: Document, options: Option<IndexOptions>| {
            IndexModel::builder().keys(keys).options(options).build()
        };
        let email = IndexOptions::builder()
            .unique(true)
            .partial_filter_expression(doc! { "email": { "$type": "string" } })
            .build();
        let plan = [
            (&self.users, vec![index(doc! { "email": 1 }, Some(email))]),
            (
                &self.accounts,
                vec![
                    index(
                        doc! { "provider": 1, "providerAccountId": 1 },
                        Some(unique()),
                    ),
                    index(doc! { "userId": 1 }, None),
                ],
            ),
            (
                &self.sessions,
                vec![
                    index(doc! { "sessionToken": 1 }, Some(unique())),
                    index(doc! { "userId": 1 }, None),
                    index(doc! { "expires": 1 }, Some(ttl())),
                ],
            ),
            (
                &self.tokens,
                vec![
                    index(doc! { "identifier": 1, "token": 1 }, Some(unique())),
                    index(doc! { "expires": 1 }, Some(ttl())),
                ],
            ),
            (
                &self.authenticators,
                vec![
                    index(doc! { "credentialID": 1 }, Some(unique())),
                    index(doc! { "userId": 1 }, None),
                ],
            ),
        ];
        for (collection, indexes) in plan {
            let mut attempts = 0u64;
            loop {
                match collection.create_indexes(indexes.clone()).await {
                    Ok(_) => break,
                    // Another process is creating the same collection or
                    // index right now: once it is done, creating it again
                    // with the same definition is a no-op; a real conflict
                    // of definitions fails again and is reported.
                    Err(e)
                        if attempts < MIGRATE_RETRIES
                            && matches!(server_code(&e), Some(48 | 85 | 86 | 11000)) =>
                    {
                        attempts += 1;
                        tokio::time::sleep(Duration::from_millis(20 * attempts)).await;
                    }
                    Err(e) => return Err(backend(e)),
                }
            }
        }
        Ok(())
    }

    /// Whether this adapter makes its multi-record writes in transactions:
    /// [`MongoOptions::transactions`] allows them and the deployment runs
    /// them (a replica set member or a `mongos` does, a standalone `mongod`
    /// does not). Asks the server once (`hello`), under the operation
    /// timeout; the answer is kept.
    ///
    /// Errors: `Backend` when the server cannot be reached.
    pub async fn uses_transactions(&self) -> Result<bool> {
        with_timeout(
            self.operation_timeout,
            "uses_transactions",
            self.supports_transactions(),
        )
        .await
    }

    /// Whether the deployment supports multi-document transactions: a
    /// replica set member or a `mongos` does, a standalone `mongod` does not.
    async fn supports_transactions(&self) -> Result<bool> {
        if !self.allow_transactions {
            return Ok(false);
        }
        if let Some(known) = self.transactions.get() {
            return Ok(*known);
        }
        let hello = self
            .client
            .database("admin")
            .run_command(doc! { "hello": 1 })
            .await
            .map_err(backend)?;
        let supported = hello.contains_key("setName")
            || hello.get_str("msg").is_ok_and(|msg| msg == "isdbgrid");
        Ok(*self.transactions.get_or_init(|| supported))
    }

    /// In a transaction: writes the user document (and puts it back as it
    /// was) so that this transaction and a concurrent `delete_user` cannot
    /// both commit. `false` if the user does not exist.
    async fn claim_user(
        &self,
        user_id: ObjectId,
        session: &mut ClientSession,
    ) -> mongodb::error::Result<bool> {
        let reply = self
            .database
            .run_command(doc! {
                "update": USERS,
                "updates": [
                    { "q": { "_id": user_id }, "u": { "$set": { CLAIM_FIELD: true } } },
                    { "q": { "_id": user_id }, "u": { "$unset": { CLAIM_FIELD: "" } } },
                ],
                "ordered": true,
            })
            .session(&mut *session)
            .await?;
        Ok(number(reply.get("n")).is_some_and(|n| n > 0))
    }

    /// Inserts `record` into `collection` only if user `user_id` exists, in
    /// a transaction that conflicts with a concurrent `delete_user` where the
    /// deployment has transactions; else checks, then inserts.
    async fn insert_for_user(
        &self,
        collection: &Collection<Document>,
        user_id: &str,
        record: Document,
        conflict: Key,
    ) -> Result<()> {
        let missing = || AdapterError::user_not_found(user_id);
        let oid = parse_id(user_id).ok_or_else(missing)?;
        // Every attempt carries the same fresh `_id`, so that a duplicate
        // key met by a retry can be told apart from a real conflict
        // (see `insert_own`).
        let mut record = record;
        let record_id = ObjectId::new();
        record.insert("_id", record_id);
        if !self.supports_transactions().await? {
            let (adapter, collection) = (self.clone(), collection.clone());
            return detached(async move {
                adapter
                    .insert_then_recheck(&collection, oid, record, conflict)
                    .await
            })
            .await;
        }
        let inserted = {
            let mut attempts = 0;
            loop {
                let mut session = self.client.start_session().await.map_err(backend)?;
                let claimed = session
                    .start_transaction()
                    .and_run(
                        (self.clone(), collection.clone(), record.clone()),
                        |session, (adapter, collection, record)| {
                            async move {
                                if !adapter.claim_user(oid, session).await? {
                                    return Ok(false);
                                }
                                collection
                                    .insert_one(record.clone())
                                    .session(session)
                                    .await?;
                                Ok(true)
                            }
                            .boxed()
                        },
                    )
                    .await;
                // A transaction's snapshot may predate a user created an
                // instant ago by another session: look again outside it.
                match claimed {
                    Ok(false) if attempts < 5 && self.user_exists(oid).await? => attempts += 1,
                    other => break other,
                }
            }
        };
        match inserted {
            Ok(true) => Ok(()),
            Ok(false) => Err(missing()),
            // A commit whose reply a restart cut off, then retried: the
            // record with this attempt's `_id` is there, so it was ours.
            Err(e) if matches!(server_code(&e), Some(11000 | 11001)) => {
                let own = collection
                    .find_one(doc! { "_id": record_id })
                    .projection(doc! { "_id": 1 })
                    .await
                    .map_err(backend)?;
                match own {
                    Some(_) => Ok(()),
                    None => Err(write_error(e, conflict)),
                }
            }
            Err(e) => Err(write_error(e, conflict)),
        }
    }

    /// The standalone path of [`insert_for_user`](Self::insert_for_user):
    /// check, insert, check again, and undo the insert if the user has gone.
    ///
    /// Why no orphan survives, on a server whose single-document operations
    /// are linearizable (a standalone `mongod`, or a replica set's primary
    /// with the default read and write concerns on one client):
    /// `delete_user` deletes the user document (D) and only then, once D is
    /// acknowledged, the user's records (R). Here the insert (I) is
    /// acknowledged before the second check (C) starts. If C finds the
    /// user, C comes before D, so I comes before D and therefore before R:
    /// R sees the new record and deletes it. If C does not find the user,
    /// this call deletes the record itself (U) and returns `NotFound`.
    /// Either way, once both calls have finished, the record is gone; the
    /// only window is between I and R or U, when the record exists but its
    /// user does not, and every lookup that joins the user
    /// (`get_session_and_user`, `get_user_by_account`) ignores it then.
    /// The steps run in a task of their own ([`detached`]), so a caller
    /// that gives up (the operation timeout) does not stop them half way.
    async fn insert_then_recheck(
        &self,
        collection: &Collection<Document>,
        user_id: ObjectId,
        mut record: Document,
        conflict: Key,
    ) -> Result<()> {
        let missing = || AdapterError::user_not_found(&user_id.to_hex());
        if !self.user_exists(user_id).await? {
            return Err(missing());
        }
        let record_id = match record.get_object_id("_id") {
            Ok(id) => id,
            Err(_) => {
                let id = ObjectId::new();
                record.insert("_id", id);
                id
            }
        };
        insert_own(collection, record_id, record, conflict).await?;
        if self.user_exists(user_id).await? {
            return Ok(());
        }
        collection
            .delete_one(doc! { "_id": record_id })
            .await
            .map_err(backend)?;
        Err(missing())
    }

    async fn user_exists(&self, id: ObjectId) -> Result<bool> {
        let found = self
            .users
            .find_one(doc! { "_id": id })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    /// Runs an aggregation expected to yield at most one document.
    async fn first(
        &self,
        collection: &Collection<Document>,
        pipeline: Vec<Document>,
    ) -> Result<Option<Document>> {
        let mut cursor = collection.aggregate(pipeline).await.map_err(backend)?;
        cursor.try_next().await.map_err(backend)
    }
}

/// Inserts `record`, whose `_id` is `id`, an ObjectId this adapter has just
/// made. A duplicate-key error is a conflict with another record, except
/// when the driver retried the insert after losing the first attempt's
/// reply (a connection broken by a server restart, with retryable writes)
/// and the first attempt had landed: then the document with this `_id` is
/// there, it can only be this call's own, and the insert is reported done.
/// Found by `scripts/faults.sh` (a restart mid-load made `create_user`
/// report `Conflict` for a user it had created).
async fn insert_own(
    collection: &Collection<Document>,
    id: ObjectId,
    record: Document,
    conflict: Key,
) -> Result<()> {
    let error = match collection.insert_one(record).await {
        Ok(_) => return Ok(()),
        Err(error) => error,
    };
    if !matches!(server_code(&error), Some(11000 | 11001)) {
        return Err(backend(error));
    }
    let own = collection
        .find_one(doc! { "_id": id })
        .projection(doc! { "_id": 1 })
        .await
        .map_err(backend)?;
    match own {
        Some(_) => Ok(()),
        None => Err(write_error(error, conflict)),
    }
}

/// Runs `steps` in a task of its own and waits for it: if the caller's
/// future is dropped (the operation timeout), the steps still run to their
/// end, so a sequence that must not stop half way (insert, check, undo) does
/// not. A panic in the task (a bug) becomes a `Backend` error.
async fn detached<T: Send + 'static>(
    steps: impl std::future::Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    tokio::spawn(steps)
        .await
        .map_err(|e| AdapterError::backend(format!("a background step failed: {e}")))?
}

/// `$lookup` + `$unwind` of the user a record's `userId` points to; records
/// whose user is gone drop out.
fn join_user() -> [Document; 2] {
    [
        doc! { "$lookup": {
            "from": USERS,
            "localField": "userId",
            "foreignField": "_id",
            "as": "user",
        } },
        doc! { "$unwind": "$user" },
    ]
}

// ------------------------------------------------------ the calls, unbounded

/// The calls of the trait, without the time limit.
impl MongodbAdapter {
    async fn do_create_user(&self, user: NewUser) -> Result<User> {
        let id = ObjectId::new();
        let record = doc! {
            "_id": id,
            "name": opt_str(&user.name),
            "email": opt_str(&user.email),
            "emailVerified": opt_date(user.email_verified),
            "image": opt_str(&user.image),
        };
        insert_own(&self.users, id, record, Key::Email).await?;
        let mut user = user.into_user(id.to_hex());
        user.email_verified = user.email_verified.map(truncate_to_millis);
        Ok(user)
    }

    async fn do_get_user(&self, id: &str) -> Result<Option<User>> {
        let Some(oid) = parse_id(id) else {
            return Ok(None);
        };
        let found = self
            .users
            .find_one(doc! { "_id": oid })
            .await
            .map_err(backend)?;
        found.as_ref().map(read_user).transpose()
    }

    async fn do_get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let found = self
            .users
            .find_one(doc! { "email": email })
            .await
            .map_err(backend)?;
        found.as_ref().map(read_user).transpose()
    }

    async fn do_get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<User>> {
        let mut pipeline = vec![
            doc! { "$match": { "provider": provider, "providerAccountId": provider_account_id } },
            doc! { "$limit": 1 },
        ];
        pipeline.extend(join_user());
        pipeline.push(doc! { "$project": { "user": 1 } });
        let Some(found) = self.first(&self.accounts, pipeline).await? else {
            return Ok(None);
        };
        read_user(sub_document(&found, "user")?).map(Some)
    }

    async fn do_update_user(&self, update: UserUpdate) -> Result<User> {
        let missing = || AdapterError::user_not_found(&update.id);
        let oid = parse_id(&update.id).ok_or_else(missing)?;
        let mut set = Document::new();
        if let Some(name) = &update.name {
            set.insert("name", opt_str(name));
        }
        if let Some(email) = &update.email {
            set.insert("email", opt_str(email));
        }
        if let Some(verified) = update.email_verified {
            set.insert("emailVerified", opt_date(verified));
        }
        if let Some(image) = &update.image {
            set.insert("image", opt_str(image));
        }
        let found = if set.is_empty() {
            self.users.find_one(doc! { "_id": oid }).await
        } else {
            self.users
                .find_one_and_update(doc! { "_id": oid }, doc! { "$set": set })
                .return_document(ReturnDocument::After)
                .await
        }
        .map_err(|e| write_error(e, Key::Email))?;
        read_user(&found.ok_or_else(missing)?)
    }

    async fn do_delete_user(&self, id: &str) -> Result<Option<User>> {
        let Some(oid) = parse_id(id) else {
            return Ok(None);
        };
        let owned = doc! { "userId": oid };
        let deleted = if self.supports_transactions().await? {
            let mut session = self.client.start_session().await.map_err(backend)?;
            session
                .start_transaction()
                .and_run(
                    (self.clone(), owned.clone()),
                    |session, (adapter, owned)| {
                        async move {
                            // The user first: its write conflicts with any
                            // transaction that claimed it to add a record.
                            let Some(user) = adapter
                                .users
                                .find_one_and_delete(doc! { "_id": oid })
                                .session(&mut *session)
                                .await?
                            else {
                                return Ok(None);
                            };
                            for collection in [
                                &adapter.sessions,
                                &adapter.accounts,
                                &adapter.authenticators,
                            ] {
                                collection
                                    .delete_many(owned.clone())
                                    .session(&mut *session)
                                    .await?;
                            }
                            Ok(Some(user))
                        }
                        .boxed()
                    },
                )
                .await
                .map_err(backend)?
        } else {
            // The user goes first so that no session resolves to a deleted
            // user even if a later step fails (rerunning finishes the job),
            // and so that a concurrent insert for this user either is seen
            // by the deletions below or sees the user gone and undoes itself
            // (see `insert_then_recheck`). In a task of its own, so that a
            // caller that gives up does not stop it between the steps.
            let adapter = self.clone();
            detached(async move {
                let user = adapter
                    .users
                    .find_one_and_delete(doc! { "_id": oid })
                    .await
                    .map_err(backend)?;
                for collection in [
                    &adapter.sessions,
                    &adapter.accounts,
                    &adapter.authenticators,
                ] {
                    collection
                        .delete_many(owned.clone())
                        .await
                        .map_err(backend)?;
                }
                Ok(user)
            })
            .await?
        };
        deleted.as_ref().map(read_user).transpose()
    }

    async fn do_link_account(&self, account: Account) -> Result<Account> {
        let user_id = parse_id(&account.user_id)
            .ok_or_else(|| AdapterError::user_not_found(&account.user_id))?;
        let mut record = doc! {
            "userId": user_id,
            "type": account.account_type.as_str(),
            "provider": &account.provider,
            "providerAccountId": &account.provider_account_id,
        };
        // Absent token fields are left out, as Auth.js leaves out what a
        // provider did not send.
        for (field, value) in [
            ("access_token", &account.access_token),
            ("refresh_token", &account.refresh_token),
            ("token_type", &account.token_type),
            ("scope", &account.scope),
            ("id_token", &account.id_token),
            ("session_state", &account.session_state),
        ] {
            if let Some(value) = value {
                record.insert(field, value);
            }
        }
        if let Some(expires_at) = account.expires_at {
            record.insert("expires_at", expires_at);
        }
        self.insert_for_user(
            &self.accounts,
            &account.user_id,
            record,
            Key::ProviderAccountId,
        )
        .await?;
        Ok(account)
    }

    async fn do_unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let found = self
            .accounts
            .find_one_and_delete(
                doc! { "provider": provider, "providerAccountId": provider_account_id },
            )
            .await
            .map_err(backend)?;
        found.as_ref().map(read_account).transpose()
    }

    async fn do_get_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<Account>> {
        let found = self
            .accounts
            .find_one(doc! { "provider": provider, "providerAccountId": provider_account_id })
            .await
            .map_err(backend)?;
        found.as_ref().map(read_account).transpose()
    }

    async fn do_list_accounts_by_user_id(&self, user_id: &str) -> Result<Vec<Account>> {
        let Some(oid) = parse_id(user_id) else {
            return Ok(Vec::new());
        };
        // On the `{ userId: 1 }` index.
        let found: Vec<Document> = self
            .accounts
            .find(doc! { "userId": oid })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        found.iter().map(read_account).collect()
    }

    async fn do_create_session(&self, session: Session) -> Result<Session> {
        let user_id = parse_id(&session.user_id)
            .ok_or_else(|| AdapterError::user_not_found(&session.user_id))?;
        let record = doc! {
            "sessionToken": &session.session_token,
            "userId": user_id,
            "expires": date(session.expires),
        };
        self.insert_for_user(&self.sessions, &session.user_id, record, Key::SessionToken)
            .await?;
        Ok(Session {
            expires: truncate_to_millis(session.expires),
            ..session
        })
    }

    async fn do_get_session_and_user(
        &self,
        session_token: &str,
    ) -> Result<Option<(Session, User)>> {
        let mut pipeline = vec![
            doc! { "$match": {
                "sessionToken": session_token,
                // TTL deletion is lazy: expired sessions may still be there.
                "expires": { "$gt": date(OffsetDateTime::now_utc()) },
            } },
            doc! { "$limit": 1 },
        ];
        pipeline.extend(join_user());
        let Some(found) = self.first(&self.sessions, pipeline).await? else {
            return Ok(None);
        };
        let user = read_user(sub_document(&found, "user")?)?;
        Ok(Some((read_session(&found)?, user)))
    }

    async fn do_update_session(&self, update: SessionUpdate) -> Result<Option<Session>> {
        let mut set = Document::new();
        if let Some(expires) = update.expires {
            set.insert("expires", date(expires));
        }
        // An expired session (by the caller's clock: TTL deletion is lazy and
        // runs on the server's) is neither read nor revived.
        let now = date(OffsetDateTime::now_utc());
        let filter = doc! { "sessionToken": &update.session_token, "expires": { "$gt": now } };
        let Some(user_id) = &update.user_id else {
            let found = if set.is_empty() {
                self.sessions.find_one(filter).await
            } else {
                self.sessions
                    .find_one_and_update(filter, doc! { "$set": set })
                    .return_document(ReturnDocument::After)
                    .await
            }
            .map_err(backend)?;
            return found.as_ref().map(read_session).transpose();
        };
        // A new owner must exist, and must not be deleted under our feet.
        let missing = || AdapterError::user_not_found(user_id);
        let oid = parse_id(user_id).ok_or_else(missing)?;
        set.insert("userId", oid);
        let change = doc! { "$set": set };
        let found = if self.supports_transactions().await? {
            let mut attempts = 0;
            loop {
                let mut session = self.client.start_session().await.map_err(backend)?;
                let claimed = session
                    .start_transaction()
                    .and_run(
                        (self.clone(), filter.clone(), change.clone()),
                        |session, (adapter, filter, change)| {
                            async move {
                                if !adapter.claim_user(oid, session).await? {
                                    return Ok(None);
                                }
                                let updated = adapter
                                    .sessions
                                    .find_one_and_update(filter.clone(), change.clone())
                                    .return_document(ReturnDocument::After)
                                    .session(session)
                                    .await?;
                                Ok(Some(updated))
                            }
                            .boxed()
                        },
                    )
                    .await
                    .map_err(backend)?;
                // As in `insert_for_user`: the snapshot may predate the user.
                match claimed {
                    None if attempts < 5 && self.user_exists(oid).await? => attempts += 1,
                    other => break other,
                }
            }
        } else {
            // As `insert_then_recheck`: move, check the new owner again, and
            // if it has gone meanwhile, delete the session (it would have
            // been deleted with its owner had the move come first).
            let (adapter, token) = (self.clone(), update.session_token.clone());
            detached(async move {
                if !adapter.user_exists(oid).await? {
                    return Ok(None);
                }
                let updated = adapter
                    .sessions
                    .find_one_and_update(filter, change)
                    .return_document(ReturnDocument::After)
                    .await
                    .map_err(backend)?;
                if updated.is_some() && !adapter.user_exists(oid).await? {
                    adapter
                        .sessions
                        .delete_one(doc! { "sessionToken": token, "userId": oid })
                        .await
                        .map_err(backend)?;
                    return Ok(None);
                }
                Ok(Some(updated))
            })
            .await?
        };
        let updated = found.ok_or_else(missing)?;
        updated.as_ref().map(read_session).transpose()
    }

    async fn do_delete_session(&self, session_token: &str) -> Result<Option<Session>> {
        let found = self
            .sessions
            .find_one_and_delete(doc! { "sessionToken": session_token })
            .await
            .map_err(backend)?;
        found.as_ref().map(read_session).transpose()
    }

    async fn do_list_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        let Some(oid) = parse_id(user_id) else {
            return Ok(Vec::new());
        };
        // On the `{ userId: 1 }` index. TTL deletion is lazy and runs on the
        // server's clock: expired sessions may still be there, so the
        // caller's clock filters them out.
        let live = doc! {
            "userId": oid,
            "expires": { "$gt": date(OffsetDateTime::now_utc()) },
        };
        let found: Vec<Document> = self
            .sessions
            .find(live)
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        found.iter().map(read_session).collect()
    }

    async fn do_create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<VerificationToken> {
        let id = ObjectId::new();
        let record = doc! {
            "_id": id,
            "identifier": &token.identifier,
            "token": &token.token,
            "expires": date(token.expires),
        };
        insert_own(&self.tokens, id, record, Key::IdentifierAndToken).await?;
        Ok(VerificationToken {
            expires: truncate_to_millis(token.expires),
            ..token
        })
    }

    async fn do_use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>> {
        let found = self
            .tokens
            .find_one_and_delete(doc! { "identifier": identifier, "token": token })
            .await
            .map_err(backend)?;
        let Some(found) = found else {
            return Ok(None);
        };
        let token = read_verification_token(&found)?;
        // Consumed either way; an expired one does not sign anyone in.
        Ok((token.expires > OffsetDateTime::now_utc()).then_some(token))
    }

    async fn do_create_authenticator(&self, authenticator: Authenticator) -> Result<Authenticator> {
        let user_id = parse_id(&authenticator.user_id)
            .ok_or_else(|| AdapterError::user_not_found(&authenticator.user_id))?;
        let record = doc! {
            "credentialID": &authenticator.credential_id,
            "userId": user_id,
            "providerAccountId": &authenticator.provider_account_id,
            "credentialPublicKey": &authenticator.credential_public_key,
            "counter": counter(authenticator.counter),
            "credentialDeviceType": &authenticator.credential_device_type,
            "credentialBackedUp": authenticator.credential_backed_up,
            "transports": opt_str(&authenticator.transports),
        };
        self.insert_for_user(
            &self.authenticators,
            &authenticator.user_id,
            record,
            Key::CredentialId,
        )
        .await?;
        Ok(authenticator)
    }

    async fn do_get_authenticator(&self, credential_id: &str) -> Result<Option<Authenticator>> {
        let found = self
            .authenticators
            .find_one(doc! { "credentialID": credential_id })
            .await
            .map_err(backend)?;
        found.as_ref().map(read_authenticator).transpose()
    }

    async fn do_list_authenticators_by_user_id(&self, user_id: &str) -> Result<Vec<Authenticator>> {
        let Some(oid) = parse_id(user_id) else {
            return Ok(Vec::new());
        };
        let found: Vec<Document> = self
            .authenticators
            .find(doc! { "userId": oid })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        found.iter().map(read_authenticator).collect()
    }

    async fn do_update_authenticator_counter(
        &self,
        credential_id: &str,
        new_counter: u32,
    ) -> Result<Authenticator> {
        let found = self
            .authenticators
            .find_one_and_update(
                doc! { "credentialID": credential_id },
                doc! { "$set": { "counter": counter(new_counter) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(backend)?;
        let found = found.ok_or_else(|| {
            AdapterError::not_found(
                Entity::Authenticator,
                format!("credential id {credential_id:?}"),
            )
        })?;
        read_authenticator(&found)
    }

    async fn do_purge_expired(&self) -> Result<u64> {
        let expired = doc! { "expires": { "$lte": date(OffsetDateTime::now_utc()) } };
        let mut removed = 0;
        for collection in [&self.sessions, &self.tokens] {
            let result = collection
                .delete_many(expired.clone())
                .await
                .map_err(backend)?;
            removed += result.deleted_count;
        }
        Ok(removed)
    }
}

// ------------------------------------------------------------- trait impl

/// Every call runs under the adapter's operation time limit
/// (`operation_timeout` of its options): when the server stalls, the call
/// returns a `Backend` error for which `is_timeout()` is true.
#[async_trait]
impl Adapter for MongodbAdapter {
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
