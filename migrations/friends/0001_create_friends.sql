-- Friend requests keep the seed README's shape (request_id, sender_uuid, receiver_uuid, status).
-- At most one pending request per unordered pair, enforced here rather than only in code:
-- pair_low/pair_high are the two uuids in order (the CHECKs make the database verify that),
-- pending_flag is 1 while pending and NULL after, and NULLs never collide in the unique key.
-- So two concurrent requests between the same pair, in either direction, cannot both land.
-- (MariaDB refuses LEAST/GREATEST on strings in generated columns, hence the checked copy.)
CREATE TABLE friend_requests (
    request_id    BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    sender_uuid   CHAR(36)        NOT NULL,
    receiver_uuid CHAR(36)        NOT NULL,
    status        ENUM('pending', 'accepted', 'rejected', 'cancelled') NOT NULL DEFAULT 'pending',
    pair_low      CHAR(36)        NOT NULL,
    pair_high     CHAR(36)        NOT NULL,
    pending_flag  TINYINT GENERATED ALWAYS AS (IF(status = 'pending', 1, NULL)) STORED,
    created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (request_id),
    CONSTRAINT uq_friend_requests_pending_pair UNIQUE (pair_low, pair_high, pending_flag),
    CONSTRAINT ck_friend_requests_pair_ordered CHECK (pair_low < pair_high),
    CONSTRAINT ck_friend_requests_pair_matches CHECK (
        (pair_low = sender_uuid AND pair_high = receiver_uuid)
        OR (pair_low = receiver_uuid AND pair_high = sender_uuid)),
    KEY ix_friend_requests_receiver (receiver_uuid, status, request_id),
    KEY ix_friend_requests_sender (sender_uuid, status, request_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- One row per direction, written and removed together, so "friends of X" is one index range.
CREATE TABLE friendships (
    user_uuid   CHAR(36)    NOT NULL,
    friend_uuid CHAR(36)    NOT NULL,
    created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (user_uuid, friend_uuid),
    KEY ix_friendships_friend (friend_uuid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

CREATE TABLE blocks (
    blocker_uuid CHAR(36)    NOT NULL,
    blocked_uuid CHAR(36)    NOT NULL,
    created_at   DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (blocker_uuid, blocked_uuid),
    KEY ix_blocks_blocked (blocked_uuid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;

-- Events written with the change they describe (see chat_models::outbox).
CREATE TABLE outbox_events (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    event_type  VARCHAR(64)     NOT NULL,
    payload     TEXT            NOT NULL,
    created_at  DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
