-- auth-core PostgreSQL schema, version 2: the authenticator counter holds
-- every u32.
--
-- WebAuthn's signCount is an unsigned 32-bit number. Version 1 kept it in a
-- 32-bit signed `integer` (Prisma's `Int`), which stops at 2147483647;
-- `bigint` holds 0..=4294967295. The column keeps its Auth.js name. The
-- statement is a no-op on a column that is `bigint` already, and rewrites
-- the (small) table otherwise.
ALTER TABLE "Authenticator" ALTER COLUMN "counter" TYPE bigint;
