-- Removes the auth tables and everything in them.
DROP TABLE IF EXISTS "Authenticator";
DROP TABLE IF EXISTS "VerificationToken";
DROP TABLE IF EXISTS "Session";
DROP TABLE IF EXISTS "Account";
DROP TABLE IF EXISTS "User";
