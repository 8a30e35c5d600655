package password_test

import (
	"syscall"
	"time"
	"unsafe"
)

// threadCPUTime returns the CPU time the calling thread has used, from
// clock_gettime(CLOCK_THREAD_CPUTIME_ID). The caller locks its goroutine to
// the thread.
func threadCPUTime() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic("clock_gettime(CLOCK_THREAD_CPUTIME_ID): " + errno.Error())
	}
	return time.Duration(ts.Nano())
}
