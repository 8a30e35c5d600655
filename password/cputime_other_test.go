//go:build !linux

package password_test

import "time"

var epoch = time.Now()

// threadCPUTime falls back to wall time where the thread's CPU time is not
// at hand.
func threadCPUTime() time.Duration { return time.Since(epoch) }
