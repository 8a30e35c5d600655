package main

// crashHook, when set, is called at each named step of a multi-step
// operation (an upload, a job, the purge, a migration, a delivery, an
// onboarding step, a reset, a consent update). Only the crash tests
// set it: their helper process kills itself with SIGKILL at the step it is
// told, so that the test can check what a crash at exactly that point
// leaves behind. A portal never sets it.
var crashHook func(step string)

// crashPoint marks a step at which a crash must leave the database
// consistent.
func crashPoint(step string) {
	if crashHook != nil {
		crashHook(step)
	}
}
