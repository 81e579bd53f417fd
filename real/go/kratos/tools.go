//go:build tools

// Keeps Ory Kratos' command tree in this wrapper module's dependency graph, so `go mod tidy` resolves what the
// binary imports; real:setup then builds upstream's own main with `go build -tags sqlite github.com/ory/kratos`.
// Not the main package itself: its directory also holds Kratos' own tools file (go-swagger and friends), whose
// forked go-swagger version the checksum database does not know.
package tools

import _ "github.com/ory/kratos/cmd"
