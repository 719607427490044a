-- Good and total events of an SLO's indicator per counting interval (imported or posted);
-- natural key (slo, at), `at` the interval's start.
CREATE TABLE sli_counts (
    slo TEXT NOT NULL,
    at INTEGER NOT NULL,
    good REAL NOT NULL,
    total REAL NOT NULL,
    PRIMARY KEY (slo, at)
);
