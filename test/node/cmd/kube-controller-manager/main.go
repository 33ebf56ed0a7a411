// kube-controller-manager, built from k8s.io/kubernetes as a library; the same shape as upstream's
// cmd/kube-controller-manager/controller-manager.go.
package main

import (
	_ "vps-operator/test/node/internal/parentwatch" // exit with the harness

	"os"
	_ "time/tzdata"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
