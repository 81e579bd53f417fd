//go:build tools

// Keeps the Pulumi CLI's upstream main in this wrapper module's dependency graph: real:setup builds it with
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`, nothing copied.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
