package main

import (
	"context"
	"database/sql"
	"errors"
)

// Pseudonym domains. Every recipient of pseudonymised data has a domain of
// its own, so that two recipients cannot join their data on the pseudonyms:
//
//   - each municipality that receives data (through its providers' uploads)
//     has "gemeente-<cbs code>", such as "gemeente-0034" for Almere. The
//     domain an upload used is recorded with it.
//   - client lookup (Portero) has its own, recorded in the table
//     pseudonym_domains: "client-lookup" in a database created since
//     migration 006, "" in an older one that already held clients. A client
//     is stored under the pseudonym of its BSN; moving clients to another
//     domain needs their BSNs, which the portal does not hold, so an older
//     database keeps the domain its clients were stored under. (Its
//     consents, indications and access log name clients by the same
//     pseudonyms.)
//
// An upload's domain follows the provider's contracting municipality, so
// the same client links across the uploads of all providers of one
// municipality, and only there.

// municipalityDomain is the pseudonym domain of a municipality by its CBS
// code (gemeentecode).
func municipalityDomain(cbsCode string) string { return "gemeente-" + cbsCode }

// uploadDomain returns the domain of a provider's uploads: that of its
// contracting municipality.
func (a *app) uploadDomain(ctx context.Context, provider *organisation) (string, error) {
	if provider == nil || provider.MunicipalityID == "" {
		return "", errNoMunicipality
	}
	m, err := a.org(ctx, provider.MunicipalityID)
	if errors.Is(err, errNotFound) || (err == nil && m.CBSCode == "") {
		return "", errNoMunicipality
	}
	if err != nil {
		return "", err
	}
	return municipalityDomain(m.CBSCode), nil
}

// lookupDomain reads the domain of client lookup from the database.
func lookupDomain(ctx context.Context, db *sql.DB) (string, error) {
	var d string
	err := db.QueryRowContext(ctx, `SELECT domain FROM pseudonym_domains WHERE purpose = 'client-lookup'`).Scan(&d)
	return d, err
}
