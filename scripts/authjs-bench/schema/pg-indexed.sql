-- The `indexed` variant: what a user of @auth/pg-adapter would add to the
-- shipped schema (adapter-postgres/tests/fixtures/pg-adapter-schema.sql) for the lookups the adapter makes.
-- verification_token already has its primary key (identifier, token).
CREATE UNIQUE INDEX sessions_session_token_key ON sessions ("sessionToken");
CREATE UNIQUE INDEX accounts_provider_key ON accounts (provider, "providerAccountId");
CREATE UNIQUE INDEX users_email_key ON users (email);
