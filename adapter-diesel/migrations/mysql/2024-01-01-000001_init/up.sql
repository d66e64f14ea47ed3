-- adapter-diesel: the DDL of adapter-mysql/migrations/0001_init.sql, unchanged below this
-- note, so that both adapters can share one database; keep them in step.
--
-- auth-core MySQL / MariaDB schema, version 1.
--
-- Table and column names are those of the Auth.js Kysely and Prisma adapters,
-- so a Next.js app on Auth.js and a Rust service can share this database.
-- Runs unchanged on MySQL 8.0.13+ and MariaDB 10.2+: no RETURNING, no
-- server-specific collation, expression defaults in parentheses.
--
-- * Every table is utf8mb4 with the binary collation `utf8mb4_bin`, so keys
--   compare by code point (no case or accent folding). That collation pads
--   with spaces on both servers ('a' = 'a '), so the adapter's lookups add a
--   byte comparison (`col = CAST(? AS BINARY)`) next to the indexed equality.
-- * Instants are DATETIME(3) holding UTC, to the millisecond.
-- * Keys are VARCHAR(255): 1,020 bytes in utf8mb4, so the two-column keys
--   (2,040 bytes) fit InnoDB's 3,072-byte limit. Values that are never
--   looked up (names, OAuth tokens, public keys) are TEXT (64 KiB).
-- * `Account`.`id` and `Session`.`id` are not written by Auth.js's Kysely
--   adapter: they default to UUID() so rows it inserts are accepted.
-- * `IF NOT EXISTS` everywhere: tables that Auth.js created first are kept.

CREATE TABLE IF NOT EXISTS `User` (
    `id`            VARCHAR(255) NOT NULL DEFAULT (UUID()),
    `name`          TEXT NULL,
    `email`         VARCHAR(255) NULL,
    `emailVerified` DATETIME(3) NULL,
    `image`         TEXT NULL,
    PRIMARY KEY (`id`),
    UNIQUE KEY `User_email_key` (`email`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `Account` (
    `id`                VARCHAR(255) NOT NULL DEFAULT (UUID()),
    `userId`            VARCHAR(255) NOT NULL,
    `type`              VARCHAR(255) NOT NULL,
    `provider`          VARCHAR(255) NOT NULL,
    `providerAccountId` VARCHAR(255) NOT NULL,
    `refresh_token`     TEXT NULL,
    `access_token`      TEXT NULL,
    `expires_at`        BIGINT NULL,
    `token_type`        VARCHAR(255) NULL,
    `scope`             TEXT NULL,
    `id_token`          TEXT NULL,
    `session_state`     TEXT NULL,
    PRIMARY KEY (`id`),
    UNIQUE KEY `Account_provider_providerAccountId_key` (`provider`, `providerAccountId`),
    KEY `Account_userId_idx` (`userId`),
    CONSTRAINT `Account_userId_fkey` FOREIGN KEY (`userId`)
        REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `Session` (
    `id`           VARCHAR(255) NOT NULL DEFAULT (UUID()),
    `sessionToken` VARCHAR(255) NOT NULL,
    `userId`       VARCHAR(255) NOT NULL,
    `expires`      DATETIME(3) NOT NULL,
    PRIMARY KEY (`id`),
    UNIQUE KEY `Session_sessionToken_key` (`sessionToken`),
    KEY `Session_userId_idx` (`userId`),
    KEY `Session_expires_idx` (`expires`),
    CONSTRAINT `Session_userId_fkey` FOREIGN KEY (`userId`)
        REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `VerificationToken` (
    `identifier` VARCHAR(255) NOT NULL,
    `token`      VARCHAR(255) NOT NULL,
    `expires`    DATETIME(3) NOT NULL,
    PRIMARY KEY (`identifier`, `token`),
    UNIQUE KEY `VerificationToken_token_key` (`token`),
    KEY `VerificationToken_expires_idx` (`expires`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `Authenticator` (
    `credentialID`         VARCHAR(255) NOT NULL,
    `userId`               VARCHAR(255) NOT NULL,
    `providerAccountId`    VARCHAR(255) NOT NULL,
    `credentialPublicKey`  TEXT NOT NULL,
    `counter`              INT UNSIGNED NOT NULL DEFAULT 0,
    `credentialDeviceType` VARCHAR(255) NOT NULL,
    `credentialBackedUp`   BOOLEAN NOT NULL DEFAULT FALSE,
    `transports`           TEXT NULL,
    PRIMARY KEY (`userId`, `credentialID`),
    UNIQUE KEY `Authenticator_credentialID_key` (`credentialID`),
    CONSTRAINT `Authenticator_userId_fkey` FOREIGN KEY (`userId`)
        REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
