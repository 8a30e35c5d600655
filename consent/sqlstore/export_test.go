package sqlstore

// Rebind rewrites the ? placeholders of query for d, for the external tests.
func Rebind(d Dialect, query string) string { return d.rebind(query) }
