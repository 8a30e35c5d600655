-- Accounts are looked up and kept unique by their mailbox (password/email.Mailbox:
-- the normalised address without a +tag, so that piet+portero@ is no second
-- account beside piet@). Before, users.email_key held the normalised address
-- with its tag. The keys are recomputed in Go (rekeyEmails in users.go) at the
-- next start, which removes this row in the same transaction.
CREATE TABLE pending_rekeys (
	what TEXT PRIMARY KEY
);
INSERT INTO pending_rekeys (what) VALUES ('users.email_key');
