-- adapter-diesel: the DDL of adapter-sqlite/migrations/0001_init.sql, unchanged below this
-- note, so that both adapters can share one database; keep them in step.
--
-- auth-core SQLite schema, version 1.
-- Table and column names are those of the Auth.js Kysely and Prisma adapters,
-- so a Next.js app on Auth.js and a Rust service can share this database.
-- Instants are ISO-8601 text in UTC with milliseconds ("2024-05-06T07:08:09.123Z"),
-- as Kysely writes them. Columns Auth.js does not write have defaults.

CREATE TABLE IF NOT EXISTS "User" (
    "id"            TEXT PRIMARY KEY NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    "name"          TEXT,
    "email"         TEXT,
    "emailVerified" TEXT,
    "image"         TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS "User_email_key" ON "User" ("email");

CREATE TABLE IF NOT EXISTS "Account" (
    "id"                TEXT PRIMARY KEY NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    "userId"            TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
    "type"              TEXT NOT NULL,
    "provider"          TEXT NOT NULL,
    "providerAccountId" TEXT NOT NULL,
    "refresh_token"     TEXT,
    "access_token"      TEXT,
    "expires_at"        INTEGER,
    "token_type"        TEXT,
    "scope"             TEXT,
    "id_token"          TEXT,
    "session_state"     TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS "Account_provider_providerAccountId_key"
    ON "Account" ("provider", "providerAccountId");
CREATE INDEX IF NOT EXISTS "Account_userId_idx" ON "Account" ("userId");

CREATE TABLE IF NOT EXISTS "Session" (
    "id"           TEXT PRIMARY KEY NOT NULL DEFAULT (lower(hex(randomblob(16)))),
    "sessionToken" TEXT NOT NULL,
    "userId"       TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
    "expires"      TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS "Session_sessionToken_key" ON "Session" ("sessionToken");
CREATE INDEX IF NOT EXISTS "Session_userId_idx" ON "Session" ("userId");
CREATE INDEX IF NOT EXISTS "Session_expires_idx" ON "Session" ("expires");

CREATE TABLE IF NOT EXISTS "VerificationToken" (
    "identifier" TEXT NOT NULL,
    "token"      TEXT NOT NULL,
    "expires"    TEXT NOT NULL,
    PRIMARY KEY ("identifier", "token")
);
CREATE UNIQUE INDEX IF NOT EXISTS "VerificationToken_token_key" ON "VerificationToken" ("token");
CREATE INDEX IF NOT EXISTS "VerificationToken_expires_idx" ON "VerificationToken" ("expires");

CREATE TABLE IF NOT EXISTS "Authenticator" (
    "credentialID"         TEXT NOT NULL,
    "userId"               TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
    "providerAccountId"    TEXT NOT NULL,
    "credentialPublicKey"  TEXT NOT NULL,
    "counter"              INTEGER NOT NULL DEFAULT 0,
    "credentialDeviceType" TEXT NOT NULL,
    "credentialBackedUp"   BOOLEAN NOT NULL DEFAULT 0,
    "transports"           TEXT,
    PRIMARY KEY ("userId", "credentialID")
);
CREATE UNIQUE INDEX IF NOT EXISTS "Authenticator_credentialID_key" ON "Authenticator" ("credentialID");
