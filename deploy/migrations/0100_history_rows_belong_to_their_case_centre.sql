-- Issue 10: an expectation or case event belongs to its case's job centre, checked in one place.
--
-- Before, each row had two foreign keys: one to its case and one to its job centre. They did not
-- say that the two agree (a row could name one centre's case and another centre), and each row's
-- check took a share lock on the job centre's single row, which all the centre's concurrent
-- writers share (a MultiXact per lock): three per expectation write, now one (the idempotency
-- key's). One composite key to the
-- case, (case_id, job_centre_id), says both: the case exists and the row's centre is the case's.
-- The case's own key to its centre still holds the centre.
ALTER TABLE cases ADD CONSTRAINT cases_id_job_centre_key UNIQUE (id, job_centre_id);

ALTER TABLE expectation
  DROP CONSTRAINT expectation_job_centre_id_fkey,
  DROP CONSTRAINT expectation_case_id_fkey,
  ADD CONSTRAINT expectation_case_fkey FOREIGN KEY (case_id, job_centre_id)
    REFERENCES cases (id, job_centre_id);

ALTER TABLE case_event
  DROP CONSTRAINT case_event_job_centre_id_fkey,
  DROP CONSTRAINT case_event_case_id_fkey,
  ADD CONSTRAINT case_event_case_fkey FOREIGN KEY (case_id, job_centre_id)
    REFERENCES cases (id, job_centre_id);
