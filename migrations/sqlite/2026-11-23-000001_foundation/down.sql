DROP TABLE audit_log;
DROP TABLE account_lockouts;
DROP TABLE login_failures;
DROP TABLE password_resets;
DROP TABLE setup_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE organizations;
