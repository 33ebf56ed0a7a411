// etcd server at the version the pinned Kubernetes release requires (see go.mod); the same
// entry point as upstream's server/main.go.
package main

import (
	_ "vps-operator/test/controlplane/internal/parentwatch" // exit with the harness

	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
