-- adapter-diesel: the DDL of adapter-postgres/migrations/0001_init.sql, unchanged below this
-- note, so that both adapters can share one database; keep them in step.
--
-- auth-core PostgreSQL schema, version 1 (PostgreSQL 12 or later).
--
-- Table and column names and types are those of the Auth.js Kysely and Prisma
-- adapters, so a Next.js app on Auth.js and a Rust service can share these
-- tables. Every column Auth.js does not write has a default: Kysely inserts
-- "Account" and "Session" rows without an "id".
--
-- Tables and indexes are created in the first schema of the search_path
-- (`PostgresOptions::schema`, default "public"). `IF NOT EXISTS` keeps tables
-- that Auth.js created already; they must have the column types below.
--
-- Ids are text. The default id is a random UUID built from md5() because
-- gen_random_uuid() is core only from PostgreSQL 13; the Rust adapter and
-- Auth.js choose user ids themselves.

CREATE TABLE IF NOT EXISTS "User" (
    "id"            text PRIMARY KEY DEFAULT md5(random()::text || clock_timestamp()::text)::uuid::text,
    "name"          text,
    "email"         text,
    "emailVerified" timestamptz,
    "image"         text
);
-- Unique among users that have one; NULLs never collide.
CREATE UNIQUE INDEX IF NOT EXISTS "User_email_key" ON "User" ("email");

CREATE TABLE IF NOT EXISTS "Account" (
    "id"                text PRIMARY KEY DEFAULT md5(random()::text || clock_timestamp()::text)::uuid::text,
    "userId"            text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
    "type"              text NOT NULL,
    "provider"          text NOT NULL,
    "providerAccountId" text NOT NULL,
    "refresh_token"     text,
    "access_token"      text,
    "expires_at"        bigint,
    "token_type"        text,
    "scope"             text,
    "id_token"          text,
    "session_state"     text
);
CREATE UNIQUE INDEX IF NOT EXISTS "Account_provider_providerAccountId_key"
    ON "Account" ("provider", "providerAccountId");
CREATE INDEX IF NOT EXISTS "Account_userId_idx" ON "Account" ("userId");

CREATE TABLE IF NOT EXISTS "Session" (
    "id"           text PRIMARY KEY DEFAULT md5(random()::text || clock_timestamp()::text)::uuid::text,
    "sessionToken" text NOT NULL,
    "userId"       text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
    "expires"      timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS "Session_sessionToken_key" ON "Session" ("sessionToken");
CREATE INDEX IF NOT EXISTS "Session_userId_idx" ON "Session" ("userId");
-- For purge_expired.
CREATE INDEX IF NOT EXISTS "Session_expires_idx" ON "Session" ("expires");

CREATE TABLE IF NOT EXISTS "VerificationToken" (
    "identifier" text NOT NULL,
    "token"      text NOT NULL,
    "expires"    timestamptz NOT NULL,
    PRIMARY KEY ("identifier", "token")
);
CREATE UNIQUE INDEX IF NOT EXISTS "VerificationToken_token_key" ON "VerificationToken" ("token");
CREATE INDEX IF NOT EXISTS "VerificationToken_expires_idx" ON "VerificationToken" ("expires");

-- Shaped like the Prisma model (Kysely has no authenticators). "counter" is
-- Prisma's `Int`, a 32-bit integer. The primary key leads with "userId", so it
-- is the index on "userId" too.
CREATE TABLE IF NOT EXISTS "Authenticator" (
    "credentialID"         text NOT NULL,
    "userId"               text NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
    "providerAccountId"    text NOT NULL,
    "credentialPublicKey"  text NOT NULL,
    "counter"              integer NOT NULL DEFAULT 0,
    "credentialDeviceType" text NOT NULL,
    "credentialBackedUp"   boolean NOT NULL DEFAULT false,
    "transports"           text,
    PRIMARY KEY ("userId", "credentialID")
);
CREATE UNIQUE INDEX IF NOT EXISTS "Authenticator_credentialID_key" ON "Authenticator" ("credentialID");
