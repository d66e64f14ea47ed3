-- Keys compare byte for byte, trailing spaces included: the five tables get
-- the server's NO PAD binary collation (MySQL 8.0.17+: utf8mb4_0900_bin;
-- MariaDB 10.2.2+: utf8mb4_nopad_bin), exactly as adapter-mysql's migrate()
-- does, so both adapters can share one database. utf8mb4_bin (migration 1,
-- Prisma's and Kysely's choice) pads with spaces: 'a' = 'a '.
--
-- Which collation exists is known only on the server, so each statement is
-- built as text and run with PREPARE; the ones that do not apply run as
-- `DO 0`. Idempotent: tables already converted (by adapter-mysql, say) are
-- left alone. Neither server lets a foreign-key column change its collation,
-- so the three foreign keys are dropped first and added back after (also when
-- an earlier, interrupted run dropped them).

SET @auth_collation = (
    SELECT COLLATION_NAME FROM information_schema.COLLATIONS
    WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')
    ORDER BY COLLATION_NAME = 'utf8mb4_0900_bin' DESC
    LIMIT 1);
SET @auth_convert = @auth_collation IS NOT NULL AND EXISTS (
    SELECT 1 FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE()
      AND TABLE_NAME IN ('User', 'Account', 'Session', 'VerificationToken', 'Authenticator')
      AND COLLATION_NAME IS NOT NULL
      AND CONVERT(COLLATION_NAME USING utf8mb4) <> CONVERT(@auth_collation USING utf8mb4));

-- 1. Drop the foreign keys.

SET @auth_sql = IF(@auth_convert AND EXISTS (
    SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Account'
      AND CONSTRAINT_NAME = 'Account_userId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Account` DROP FOREIGN KEY `Account_userId_fkey`',
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(@auth_convert AND EXISTS (
    SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Session'
      AND CONSTRAINT_NAME = 'Session_userId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Session` DROP FOREIGN KEY `Session_userId_fkey`',
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(@auth_convert AND EXISTS (
    SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Authenticator'
      AND CONSTRAINT_NAME = 'Authenticator_userId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Authenticator` DROP FOREIGN KEY `Authenticator_userId_fkey`',
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;


-- 2. Convert the tables.

SET @auth_sql = IF(@auth_convert,
    CONCAT('ALTER TABLE `User` CONVERT TO CHARACTER SET utf8mb4 COLLATE ', @auth_collation),
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(@auth_convert,
    CONCAT('ALTER TABLE `Account` CONVERT TO CHARACTER SET utf8mb4 COLLATE ', @auth_collation),
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(@auth_convert,
    CONCAT('ALTER TABLE `Session` CONVERT TO CHARACTER SET utf8mb4 COLLATE ', @auth_collation),
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(@auth_convert,
    CONCAT('ALTER TABLE `VerificationToken` CONVERT TO CHARACTER SET utf8mb4 COLLATE ', @auth_collation),
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(@auth_convert,
    CONCAT('ALTER TABLE `Authenticator` CONVERT TO CHARACTER SET utf8mb4 COLLATE ', @auth_collation),
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;


-- 3. Add the foreign keys back (any that are missing).

SET @auth_sql = IF(NOT EXISTS (
    SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Account'
      AND CONSTRAINT_NAME = 'Account_userId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Account` ADD CONSTRAINT `Account_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE',
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(NOT EXISTS (
    SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Session'
      AND CONSTRAINT_NAME = 'Session_userId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Session` ADD CONSTRAINT `Session_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE',
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;

SET @auth_sql = IF(NOT EXISTS (
    SELECT 1 FROM information_schema.TABLE_CONSTRAINTS
    WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'Authenticator'
      AND CONSTRAINT_NAME = 'Authenticator_userId_fkey' AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
    'ALTER TABLE `Authenticator` ADD CONSTRAINT `Authenticator_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE',
    'DO 0');
PREPARE auth_stmt FROM @auth_sql;
EXECUTE auth_stmt;
DEALLOCATE PREPARE auth_stmt;
