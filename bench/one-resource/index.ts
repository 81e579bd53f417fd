// The baseline of the render and up benchmarks: a one-resource Pulumi program, under the same offline harness
// (render) or the same real CLI and API server (up) as the bank program.
import * as k8s from "@pulumi/kubernetes";

// Auto-named (baseline-<suffix>): each stack of `npm run bench -- up` creates its own Namespace in one cluster.
export const name = new k8s.core.v1.Namespace("baseline").metadata.name;
