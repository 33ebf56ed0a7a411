// Package parentwatch makes a node process exit when the process that started it is gone, even
// if that one was SIGKILLed: a stray kubelet on a shared machine would keep running pods. A copy
// of ../controlplane/internal/parentwatch (a Go internal package cannot be imported across
// modules). Active only when CONTROLPLANE_PARENT_PID is set, as the harness does.
package parentwatch

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func init() {
	want, err := strconv.Atoi(os.Getenv("CONTROLPLANE_PARENT_PID"))
	if err != nil || want <= 0 {
		return
	}
	check := func() {
		if os.Getppid() != want {
			fmt.Fprintf(os.Stderr, "parentwatch: parent process %d is gone; exiting\n", want)
			os.Exit(3)
		}
	}
	check()
	go func() {
		for {
			time.Sleep(500 * time.Millisecond)
			check()
		}
	}()
}
