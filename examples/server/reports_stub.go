package main

import "net/http"

func (a *app) reportsPage(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
func (a *app) apiReports(w http.ResponseWriter, r *http.Request)  { http.NotFound(w, r) }
