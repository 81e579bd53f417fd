//go:build tools

// Keeps the upstream mains of kube-apiserver and kubectl in this wrapper module's dependency graph:
// real:setup builds them with `go build k8s.io/kubernetes/cmd/<name>`, nothing copied.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
