-- Pulse survey responses, anonymous by construction: no respondent id, no email, no time of
-- answer, no free text; only the team, the wave and the numeric answers by item id. A response
-- is keyed by the digest of the file it came from and its row, so importing a file again
-- changes nothing.
CREATE TABLE survey_responses (
    source TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    instrument TEXT NOT NULL,
    wave TEXT NOT NULL,
    team TEXT NOT NULL,
    answers TEXT NOT NULL,
    PRIMARY KEY (source, row_number)
);
CREATE INDEX survey_responses_by_instrument ON survey_responses (instrument, wave);
