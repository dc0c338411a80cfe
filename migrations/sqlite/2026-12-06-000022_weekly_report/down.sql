DROP TABLE report_mail_runs;
