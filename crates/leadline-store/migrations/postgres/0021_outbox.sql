-- Notifications leave through an outbox: a notification is stored with one delivery per
-- target in the transaction that decides it, and a delivery is marked done only after its
-- target accepted it, so a restart delivers what was decided (at least once).
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_by_key ON notifications (dedup_key, id);

CREATE TABLE notification_deliveries (
    notification_id BIGINT NOT NULL,
    target TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    PRIMARY KEY (notification_id, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (delivered_at, next_at);
