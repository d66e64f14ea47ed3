-- The NO PAD collation is kept: going back to utf8mb4_bin would make
-- 'a' and 'a ' the same key again.
DO 0;
