-- Notifications leave through an outbox: a notification is stored with one delivery per
-- target in the transaction that decides it, and a delivery is marked done only after its
-- target accepted it, so a restart delivers what was decided (at least once).
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    dedup_key TEXT NOT NULL,
    state TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notifications_by_key ON notifications (dedup_key, id);

CREATE TABLE notification_deliveries (
    notification_id INTEGER NOT NULL,
    target TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT,
    PRIMARY KEY (notification_id, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (delivered_at, next_at);
