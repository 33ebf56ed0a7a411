// kubectl from the same Kubernetes release; the same shape as upstream's cmd/kubectl/kubectl.go
// (cloud auth plugins left out: the local control plane uses client certificates).
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
