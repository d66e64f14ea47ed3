-- auth-core SQLite schema for Layout::Drizzle: the default SQLite schema of
-- @auth/drizzle-adapter 1.11.3 (packages/adapter-drizzle/src/lib/sqlite.ts),
-- column for column, as drizzle-kit creates it:
--
-- * ids and strings are TEXT; `user`.`id` has no database default (Drizzle
--   makes a UUID in JavaScript; this adapter writes its own ids);
-- * instants are INTEGER Unix milliseconds (`integer({ mode: "timestamp_ms" })`)
--   for `emailVerified` and both `expires`;
-- * `credentialBackedUp` is INTEGER 0/1 (`integer({ mode: "boolean" })`);
-- * `account` has no `id`: its key is (`provider`, `providerAccountId`);
--   `session`'s key is `sessionToken`.
--
-- `IF NOT EXISTS` everywhere: tables Drizzle created first are kept. The two
-- `*_userId_idx` indexes are not Drizzle's: they serve the adapter's
-- list-by-user calls and the ON DELETE CASCADE of users, and Drizzle never
-- notices them. Table names are renamed by the adapter for other names.

CREATE TABLE IF NOT EXISTS "user" (
    "id"            TEXT PRIMARY KEY NOT NULL,
    "name"          TEXT,
    "email"         TEXT,
    "emailVerified" INTEGER,
    "image"         TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS "user_email_unique" ON "user" ("email");

CREATE TABLE IF NOT EXISTS "account" (
    "userId"            TEXT NOT NULL,
    "type"              TEXT NOT NULL,
    "provider"          TEXT NOT NULL,
    "providerAccountId" TEXT NOT NULL,
    "refresh_token"     TEXT,
    "access_token"      TEXT,
    "expires_at"        INTEGER,
    "token_type"        TEXT,
    "scope"             TEXT,
    "id_token"          TEXT,
    "session_state"     TEXT,
    PRIMARY KEY ("provider", "providerAccountId"),
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "account_userId_idx" ON "account" ("userId");

CREATE TABLE IF NOT EXISTS "session" (
    "sessionToken" TEXT PRIMARY KEY NOT NULL,
    "userId"       TEXT NOT NULL,
    "expires"      INTEGER NOT NULL,
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "session_userId_idx" ON "session" ("userId");

CREATE TABLE IF NOT EXISTS "verificationToken" (
    "identifier" TEXT NOT NULL,
    "token"      TEXT NOT NULL,
    "expires"    INTEGER NOT NULL,
    PRIMARY KEY ("identifier", "token")
);

CREATE TABLE IF NOT EXISTS "authenticator" (
    "credentialID"         TEXT NOT NULL,
    "userId"               TEXT NOT NULL,
    "providerAccountId"    TEXT NOT NULL,
    "credentialPublicKey"  TEXT NOT NULL,
    "counter"              INTEGER NOT NULL,
    "credentialDeviceType" TEXT NOT NULL,
    "credentialBackedUp"   INTEGER NOT NULL,
    "transports"           TEXT,
    PRIMARY KEY ("userId", "credentialID"),
    FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS "authenticator_credentialID_unique"
    ON "authenticator" ("credentialID");
