-- The schema that @auth/pg-adapter 1.11.3 ships: packages/adapter-pg/schema.sql
-- of nextauthjs/next-auth (commit a1a16a5a7780488c7449feece410033f445d0b31),
-- the same SQL as the "Schema" section of
-- docs/pages/getting-started/adapters/pg.mdx. Copied verbatim below this
-- header, without its first line (`\set ON_ERROR_STOP true`, a psql
-- meta-command). It has primary keys only: no index on sessions."sessionToken",
-- accounts(provider, "providerAccountId") or users.email, and no foreign keys.

CREATE TABLE verification_token
(
  identifier TEXT NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  token TEXT NOT NULL,

  PRIMARY KEY (identifier, token)
);

CREATE TABLE accounts
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  type VARCHAR(255) NOT NULL,
  provider VARCHAR(255) NOT NULL,
  "providerAccountId" VARCHAR(255) NOT NULL,
  refresh_token TEXT,
  access_token TEXT,
  expires_at BIGINT,
  id_token TEXT,
  scope TEXT,
  session_state TEXT,
  token_type TEXT,

  PRIMARY KEY (id)
);

CREATE TABLE sessions
(
  id SERIAL,
  "userId" INTEGER NOT NULL,
  expires TIMESTAMPTZ NOT NULL,
  "sessionToken" VARCHAR(255) NOT NULL,

  PRIMARY KEY (id)
);

CREATE TABLE users
(
  id SERIAL,
  name VARCHAR(255),
  email VARCHAR(255),
  "emailVerified" TIMESTAMPTZ,
  image TEXT,

  PRIMARY KEY (id)
);
