DROP TABLE problem_actions;
DROP TABLE problem_events;
DROP TABLE problem_incidents;
DROP TABLE problem_services;
DROP TABLE problems;
