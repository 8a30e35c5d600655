package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -db-conns sizes the PostgreSQL pool of each instance: an operator running
// more instances than two on one server keeps them under its
// max_connections with it.
func TestConfigDBConns(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want int    // the pool size; 0 when an error is expected
		err  string // part of the error
	}{
		{name: "the default", want: postgresConns},
		{name: "from the flag", args: []string{"-db-conns", "8"}, want: 8},
		{name: "from the environment", env: map[string]string{"ZORGKIT_DB_CONNS": "12"}, want: 12},
		{name: "the flag over the environment", args: []string{"-db-conns", "20"}, env: map[string]string{"ZORGKIT_DB_CONNS": "12"}, want: 20},
		{name: "zero", args: []string{"-db-conns", "0"}, err: `-db-conns "0": want a number of connections from 2 to 1000`},
		{name: "one", args: []string{"-db-conns", "1"}, err: "from 2 to 1000"},
		{name: "more than any server allows", args: []string{"-db-conns", "1001"}, err: "from 2 to 1000"},
		{name: "not a number", env: map[string]string{"ZORGKIT_DB_CONNS": "veel"}, err: `-db-conns "veel"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(append([]string{"-data", t.TempDir()}, tt.args...), func(k string) string { return tt.env[k] })
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.DBConns)
		})
	}
}

// The pool of an instance on PostgreSQL has the size of -db-conns.
func TestPostgresPoolSize(t *testing.T) {
	cfg := postgresConfig(t)
	cfg.DBConns = 5
	p := startTestPortal(t, cfg, true)
	assert.Equal(t, 5, p.a.db.Stats().MaxOpenConnections)
}
