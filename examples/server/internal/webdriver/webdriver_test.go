package webdriver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDriveAPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := Start(ctx, "chromedriver")
	if errors.Is(err, ErrNotInstalled) {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer d.Close()
	s, err := d.NewSession(ctx, "/usr/bin/chromium")
	if errors.Is(err, ErrNotInstalled) {
		t.Skip(err)
	}
	require.NoError(t, err)
	defer s.Close()

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.Method == http.MethodPost {
			fmt.Fprintf(w, `<p id="out">hello %s</p>`, r.FormValue("name"))
			return
		}
		fmt.Fprint(w, `<form method="post"><input name="name" id="name"><button id="go">Go</button></form>`)
	}))
	defer srv.Close()

	require.NoError(t, s.Navigate(ctx, srv.URL))
	in, err := s.Find(ctx, "#name")
	require.NoError(t, err)
	require.NoError(t, in.Type(ctx, "zorgkit"))
	btn, err := s.Find(ctx, "#go")
	require.NoError(t, err)
	require.NoError(t, btn.Click(ctx))
	out, err := s.Find(ctx, "#out")
	require.NoError(t, err)
	text, err := out.Text(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hello zorgkit", text)
	png, err := s.Screenshot(ctx)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))
}
