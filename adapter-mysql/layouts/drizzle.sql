-- auth-core MySQL / MariaDB schema for Layout::Drizzle: the default MySQL
-- schema of @auth/drizzle-adapter 1.11.3 (packages/adapter-drizzle/src/lib/
-- mysql.ts): its tables, columns, nullability, primary keys, unique keys and
-- foreign keys (ON DELETE CASCADE) exactly, with the names drizzle-kit gives
-- the constraints.
--
-- Value columns are wider than Drizzle's, so that every value of the adapter
-- contract fits (Drizzle reads and writes them unchanged):
-- * instants are DATETIME(3) in UTC (Drizzle: TIMESTAMP(3) for
--   `emailVerified`, TIMESTAMP for `expires`: 1970–2038, whole seconds);
-- * names, images, OAuth tokens, public keys, transports are TEXT
--   (Drizzle: VARCHAR(255), `id_token` VARCHAR(2048));
-- * `expires_at` is BIGINT (Drizzle: INT), `counter` INT UNSIGNED (INT).
-- Key columns are VARCHAR(255) as in Drizzle; `migrate()` then gives them
-- a NO PAD binary collation. `user`.`id` has no default: Drizzle makes a UUID
-- in JavaScript, this adapter writes its own ids. The `*_expires_idx` keys
-- are not Drizzle's; they serve purge_expired().
--
-- `IF NOT EXISTS` everywhere: tables Drizzle created first are kept, and
-- `migrate()` widens their value columns to the types below. Table and
-- constraint names are renamed by the adapter for other names.

CREATE TABLE IF NOT EXISTS `user` (
    `id`            VARCHAR(255) NOT NULL,
    `name`          TEXT NULL,
    `email`         VARCHAR(255) NULL,
    `emailVerified` DATETIME(3) NULL,
    `image`         TEXT NULL,
    PRIMARY KEY (`id`),
    CONSTRAINT `user_email_unique` UNIQUE (`email`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `account` (
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
    PRIMARY KEY (`provider`, `providerAccountId`),
    CONSTRAINT `account_userId_user_id_fk` FOREIGN KEY (`userId`)
        REFERENCES `user` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `session` (
    `sessionToken` VARCHAR(255) NOT NULL,
    `userId`       VARCHAR(255) NOT NULL,
    `expires`      DATETIME(3) NOT NULL,
    PRIMARY KEY (`sessionToken`),
    KEY `session_expires_idx` (`expires`),
    CONSTRAINT `session_userId_user_id_fk` FOREIGN KEY (`userId`)
        REFERENCES `user` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `verificationToken` (
    `identifier` VARCHAR(255) NOT NULL,
    `token`      VARCHAR(255) NOT NULL,
    `expires`    DATETIME(3) NOT NULL,
    PRIMARY KEY (`identifier`, `token`),
    KEY `verificationToken_expires_idx` (`expires`)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `authenticator` (
    `credentialID`         VARCHAR(255) NOT NULL,
    `userId`               VARCHAR(255) NOT NULL,
    `providerAccountId`    VARCHAR(255) NOT NULL,
    `credentialPublicKey`  TEXT NOT NULL,
    `counter`              INT UNSIGNED NOT NULL,
    `credentialDeviceType` VARCHAR(255) NOT NULL,
    `credentialBackedUp`   BOOLEAN NOT NULL,
    `transports`           TEXT NULL,
    PRIMARY KEY (`userId`, `credentialID`),
    CONSTRAINT `authenticator_credentialID_unique` UNIQUE (`credentialID`),
    CONSTRAINT `authenticator_userId_user_id_fk` FOREIGN KEY (`userId`)
        REFERENCES `user` (`id`) ON DELETE CASCADE ON UPDATE NO ACTION
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
