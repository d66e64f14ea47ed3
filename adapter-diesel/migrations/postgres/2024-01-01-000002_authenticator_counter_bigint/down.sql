-- Back to Prisma's 32-bit `Int` (fails if a stored counter is above 2147483647).
ALTER TABLE "Authenticator" ALTER COLUMN "counter" TYPE integer;
