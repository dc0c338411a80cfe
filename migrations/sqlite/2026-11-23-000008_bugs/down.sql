DROP TABLE bug_incidents;
DROP TABLE bug_problems;
DROP TABLE bugs;
