-- Good and total events of an SLO's indicator per counting interval (imported or posted);
-- natural key (slo, at), `at` the interval's start.
CREATE TABLE sli_counts (
    slo TEXT NOT NULL,
    at BIGINT NOT NULL,
    good DOUBLE PRECISION NOT NULL,
    total DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (slo, at)
);
