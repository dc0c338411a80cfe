-- The Monday of the last weekly report summary mailed to each user who opted in.
CREATE TABLE report_mail_runs (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    last_date DATE NOT NULL
);
