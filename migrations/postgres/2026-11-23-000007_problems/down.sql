DROP TABLE problem_actions;
DROP TABLE history;
DROP TABLE problem_incidents;
DROP TABLE problem_services;
DROP TABLE problems;
