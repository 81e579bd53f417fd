//go:build tools

// Keeps Ory Kratos' main package in this wrapper module's dependency graph: real:setup builds it with
// `go build -tags sqlite github.com/ory/kratos`, upstream's own main, nothing copied.
package tools

import _ "github.com/ory/kratos"
