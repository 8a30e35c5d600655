-- A provider's contact registered by a municipality was keyed by the whole
-- normalised address, a +tag included, where every other account is keyed by
-- its mailbox (migration 008), so that karel+portaal@ did not keep karel@
-- from a second account and "Wachtwoord vergeten?" for karel@ did not find
-- the contact. The keys are recomputed once more at the next start
-- (rekeyEmails in users.go), which removes this row.
INSERT INTO pending_rekeys (what) VALUES ('users.email_key') ON CONFLICT (what) DO NOTHING;
