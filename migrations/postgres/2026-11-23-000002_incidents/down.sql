DROP TABLE search_docs;
DROP TABLE incident_links;
DROP TABLE incident_events;
DROP TABLE comments;
DROP TABLE incident_watchers;
DROP TABLE incident_tags;
DROP TABLE incidents;
DROP TABLE services;
