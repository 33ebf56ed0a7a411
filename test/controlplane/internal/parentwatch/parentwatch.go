// Package parentwatch makes a control-plane process exit when the process that started it is
// gone, even if that one was SIGKILLed and could not clean up: imported for its side effect
// by every long-running binary here. Active only when CONTROLPLANE_PARENT_PID is set (the
// TypeScript harness sets it to its own pid), so the binaries behave normally otherwise.
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
