-- One row per pair of users that ever interacted, locked (SELECT ... FOR UPDATE semantics via
-- INSERT ... ON DUPLICATE KEY UPDATE) at the start of every transaction that changes how the
-- pair stands: send, accept, remove, block, unblock. Decisions are then taken on the current
-- state, never on a stale snapshot (for instance a request created while an accept commits).
CREATE TABLE pair_locks (
    pair_low  CHAR(36) NOT NULL,
    pair_high CHAR(36) NOT NULL,
    PRIMARY KEY (pair_low, pair_high),
    KEY ix_pair_locks_high (pair_high)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
