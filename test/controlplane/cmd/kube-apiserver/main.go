// kube-apiserver, built from k8s.io/kubernetes as a library; the same shape as upstream's
// cmd/kube-apiserver/apiserver.go.
package main

import (
	_ "vps-operator/test/controlplane/internal/parentwatch" // exit with the harness

	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
