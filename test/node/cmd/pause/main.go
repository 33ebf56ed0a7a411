// pause, the process that holds a pod's namespaces (the sandbox container), as a static Go
// binary: registry.k8s.io/pause cannot be pulled here (no registry), and upstream's pause is C.
// It does what upstream's does: sleep until SIGINT/SIGTERM, and reap orphaned children as PID 1.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
