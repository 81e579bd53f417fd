/**
 * Every policy of the pack: the compliant stack passes, and each rule, broken by changing one field of it,
 * fails with the expected message on the expected resource. Policies are picked by name.
 */
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateStack, PolicyResource, PolicyViolation } from "../../policies/evaluate";
import { policies } from "../../policies/pack";
import { CANARY, compliantStack, named, PASSWORD, PRIVATE_KEY_PEM, RuleCase, STACK, urnOf, withChange } from "./fixtures";

const check = (resources: PolicyResource[], config?: Record<string, any>) => evaluateStack(resources, { stack: STACK, config });
const show = (vs: PolicyViolation[]) => vs.map((v) => `${v.policy} ${v.urn ?? ""}: ${v.message}`).join("\n") || "(none)";

const KRATOS = "kratos";
const FRONTEND = "frontend";
const JOB = "first-employee";
const kratosContainer = (p: any) => p.spec.template.spec.containers[0];
const frontendContainer = (p: any) => p.spec.template.spec.containers[0];

const CASES: Record<string, RuleCase[]> = {
    "ingress-tls": [
        { title: "a host missing from spec.tls", resource: "backoffice", change: (p) => { p.spec.tls[0].hosts = ["api-demo-integrate.dcm.example.com"]; }, message: /^Host "backoffice-demo-integrate\.dcm\.example\.com" \(spec\.rules\[0\]\) is not covered by TLS/ },
        { title: "no tls at all", resource: "api", change: (p) => { delete p.spec.tls; }, message: /^Host "api-demo-integrate\.dcm\.example\.com" .* is not covered by TLS/ },
        { title: "a TLS entry without secretName", resource: "api", change: (p) => { delete p.spec.tls[0].secretName; }, message: /^spec\.tls\[0\] has no secretName/ },
        { title: "a TLS entry without hosts", resource: "api", change: (p) => { p.spec.tls[0].hosts = []; }, message: /^spec\.tls\[0\] lists no hosts/ },
        { title: "a rule without host", resource: "api", change: (p) => { delete p.spec.rules[0].host; }, message: /^spec\.rules\[0\] has no host: a catch-all rule cannot be covered by TLS/ },
    ],
    "ingress-host-names": [
        { title: "another bank's alias", resource: "api", change: (p) => { p.spec.rules[0].host = "api-dnipro-integrate.dcm.example.com"; }, message: /^Host "api-dnipro-integrate\.dcm\.example\.com" does not follow the naming rule for stack "demo": expected backoffice-demo-integrate\.dcm\.example\.com or api-demo-integrate\.dcm\.example\.com/ },
        { title: "another prefix", resource: "api", change: (p) => { p.spec.tls[0].hosts = ["admin-demo-integrate.dcm.example.com"]; }, message: /^Host "admin-demo-integrate\.dcm\.example\.com" does not follow/ },
        { title: "another domain", resource: "backoffice", change: (p) => { p.spec.rules[0].host = "backoffice-demo-integrate.evil.example"; }, message: /^Host "backoffice-demo-integrate\.evil\.example" does not follow/ },
        { title: "the object's environment label differs from the host", resource: "api", change: (p) => { p.metadata.labels["dcm/environment"] = "prod"; }, message: /^Host "api-demo-integrate\.dcm\.example\.com" does not follow .*expected backoffice-demo-prod\.dcm\.example\.com/ },
    ],
    "ingress-no-kratos-admin": [
        { title: "a backend on port 4434", resource: "backoffice", change: (p) => { p.spec.rules[0].http.paths[1].backend.service.port = { number: 4434 }; }, message: /^rules\[0\] "backoffice-demo-integrate\.dcm\.example\.com" path "\/\.ory" routes to port 4434 of Service "kratos-public": the Kratos admin API must not be exposed/ },
        { title: "a backend on a port named admin", resource: "backoffice", change: (p) => { p.spec.rules[0].http.paths[1].backend.service.port = { name: "admin" }; }, message: /routes to port "admin" of Service "kratos-public"/ },
        { title: "a backend on the kratos-admin Service", resource: "api", change: (p) => { p.spec.rules[0].http.paths[0].backend.service.name = "kratos-admin"; }, message: /routes to Service "kratos-admin": the Kratos admin API must not be exposed/ },
        { title: "a default backend on port 4434", resource: "api", change: (p) => { p.spec.defaultBackend = { service: { name: "kratos", port: { number: 4434 } } }; }, message: /^defaultBackend routes to port 4434/ },
    ],
    "ingress-no-kratos-admin-service": [
        { title: "a Service port forwarding to 4434", resource: "kratos-public", change: (p) => { p.spec.ports[0].targetPort = 4434; }, message: /^rules\[0\] .* path "\/\.ory" of Ingress "backoffice" reaches Service "kratos-public" port 80 -> 4434/, at: "backoffice" },
        { title: "a Service port forwarding to the container port named admin", resource: "kratos-public", change: (p) => { p.spec.ports[0].targetPort = "admin"; }, message: /reaches Service "kratos-public" port 80 -> admin/, at: "backoffice" },
    ],
    "gateway-tls": [
        { title: "an HTTPS listener without a certificate", resource: "gw-listenerset-bank-hosts", change: (p) => { p.spec.listeners[0].tls.certificateRefs = []; }, message: /^listeners\[0\] "backoffice-https" \(backoffice-demo-integrate\.dcm\.example\.com\) has no certificate/ },
        { title: "an HTTPS listener without a hostname", resource: "gw-listenerset-bank-hosts", change: (p) => { delete p.spec.listeners[2].hostname; }, message: /^listeners\[2\] "api-https" has no hostname/ },
        { title: "a TCP listener", resource: "gw-listenerset-bank-hosts", change: (p) => { p.spec.listeners[1].protocol = "TCP"; }, message: /^listeners\[1\] "backoffice-http" uses protocol TCP/ },
        { title: "a rule without HSTS", resource: "gw-httproute-backoffice-kratos", change: (p) => { p.spec.rules[1].filters = p.spec.rules[1].filters.filter((f: any) => f.type !== "ResponseHeaderModifier"); }, message: /^rules\[1\] of HTTPRoute "backoffice-kratos" sets no Strict-Transport-Security/ },
        { title: "a route forwarding plain HTTP", resource: "gw-httproute-api", change: (p) => { p.spec.parentRefs.push({ group: "gateway.networking.k8s.io", kind: "ListenerSet", name: "bank-hosts", sectionName: "api-http" }); }, message: /^rules\[0\] of HTTPRoute "api" is on a plain-HTTP listener and forwards to a backend/ },
        { title: "a route attached to every listener", resource: "gw-httproute-backoffice", change: (p) => { delete p.spec.parentRefs[0].sectionName; }, message: /^parentRefs\[0\] names no sectionName/ },
    ],
    "gateway-host-names": [
        { title: "another bank's host on a listener", resource: "gw-listenerset-bank-hosts", change: (p) => { p.spec.listeners[0].hostname = "backoffice-dnipro-integrate.dcm.example.com"; }, message: /^Host "backoffice-dnipro-integrate\.dcm\.example\.com" does not follow the naming rule for stack "demo"/ },
        { title: "a route without hostnames", resource: "gw-httproute-api", change: (p) => { delete p.spec.hostnames; }, message: /^HTTPRoute names no hostnames/ },
        { title: "a route for another domain", resource: "gw-httproute-backoffice", change: (p) => { p.spec.hostnames = ["backoffice-demo-integrate.evil.example"]; }, message: /^Host "backoffice-demo-integrate\.evil\.example" does not follow/ },
    ],
    "gateway-no-kratos-admin": [
        { title: "a backendRef on port 4434", resource: "gw-httproute-backoffice-kratos", change: (p) => { p.spec.rules[0].backendRefs[0].port = 4434; }, message: /^rules\[0\] of HTTPRoute "backoffice-kratos" routes to port 4434 of Service "kratos-public"/ },
        { title: "a backendRef to the kratos-admin Service", resource: "gw-httproute-backoffice", change: (p) => { p.spec.rules[0].backendRefs[0].name = "kratos-admin"; }, message: /routes to Service "kratos-admin": the Kratos admin API must not be exposed/ },
        { title: "a Service port forwarding to 4434", resource: "kratos-public", change: (p) => { p.spec.ports[0].targetPort = 4434; }, message: /^rules\[0\] of HTTPRoute "backoffice-kratos" reaches Service "kratos-public" port 80 -> 4434/, at: "gw-httproute-backoffice-kratos" },
        { title: "the admin-redirecting paths not hidden", resource: "gw-httproute-backoffice-kratos", change: (p) => { p.spec.rules.pop(); }, message: /^\/\.ory\/admin reaches Kratos public through rules\[0\] of HTTPRoute "backoffice-kratos" as \/admin/ },
        { title: "one admin-redirecting path left out", resource: "gw-httproute-backoffice-kratos", change: (p) => { p.spec.rules[1].matches = p.spec.rules[1].matches.slice(0, 1); }, message: /^\/\.ory\/identities reaches Kratos public/ },
    ],
    "dcm-api-upstream": [
        { title: "a catch-all to DCM's API", resource: "gw-httproute-api", change: (p) => { p.spec.rules[1].matches.push({ path: { type: "PathPrefix", value: "/" } }); }, message: /^rules\[1\] of HTTPRoute "api" \(to dcm-platform\/dcm-api\) matches PathPrefix "\/": DCM's API gets only the allow-list/ },
        { title: "a rule without matches to DCM's API", resource: "gw-httproute-api", change: (p) => { delete p.spec.rules[1].matches; }, message: /matches PathPrefix "\/": DCM's API gets only the allow-list/ },
        { title: "no ReferenceGrant", resource: "gw-referencegrant-dcm", change: (p) => { p.spec.from[0].namespace = "bank-other-integrate"; }, message: /crosses namespaces without a ReferenceGrant in dcm-platform/, at: "gw-httproute-api" },
        { title: "no BackendTLSPolicy CA", resource: "gw-backendtlspolicy-dcm", change: (p) => { delete p.spec.validation.caCertificateRefs; }, message: /has no BackendTLSPolicy with a CA and a hostname for Service dcm-platform\/dcm-api/, at: "gw-httproute-api" },
        { title: "an ingress-nginx catch-all to an ExternalName without verification", resource: "api", change: (p) => { p.spec.rules[0].http.paths[0].backend.service.name = "dcm-api"; }, message: /^Ingress "api" sends path "\/" \(Prefix\) to DCM's API/, at: "api" },
    ],
    "pods-restricted": [
        { title: "host network", resource: KRATOS, change: (p) => { p.spec.template.spec.hostNetwork = true; }, message: /^spec\.hostNetwork is true/ },
        { title: "host PID", resource: JOB, change: (p) => { p.spec.template.spec.hostPID = true; }, message: /^spec\.hostPID is true/ },
        { title: "a hostPath volume", resource: KRATOS, change: (p) => { p.spec.template.spec.volumes.push({ name: "host", hostPath: { path: "/" } }); }, message: /^volumes\[1\] "host" is a hostPath volume/ },
        { title: "root user in the pod", resource: FRONTEND, change: (p) => { p.spec.template.spec.securityContext.runAsUser = 0; }, message: /^securityContext\.runAsUser is 0/ },
        { title: "a privileged container", resource: FRONTEND, change: (p) => { frontendContainer(p).securityContext.privileged = true; }, message: /^containers\[0\] "frontend" securityContext\.privileged is true/ },
        { title: "privilege escalation not disabled", resource: KRATOS, change: (p) => { delete kratosContainer(p).securityContext.allowPrivilegeEscalation; }, message: /^containers\[0\] "kratos" securityContext\.allowPrivilegeEscalation must be false/ },
        { title: "an init container allowing escalation", resource: KRATOS, change: (p) => { p.spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation = true; }, message: /^initContainers\[0\] "migrate" securityContext\.allowPrivilegeEscalation must be false/ },
        { title: "capabilities not dropped", resource: FRONTEND, change: (p) => { frontendContainer(p).securityContext.capabilities.drop = ["NET_RAW"]; }, message: /capabilities\.drop must include "ALL"/ },
        { title: "a capability added", resource: FRONTEND, change: (p) => { frontendContainer(p).securityContext.capabilities.add = ["SYS_ADMIN"]; }, message: /capabilities\.add has SYS_ADMIN: only NET_BIND_SERVICE may be added/ },
        { title: "a container allowed to run as root", resource: KRATOS, change: (p) => { kratosContainer(p).securityContext.runAsNonRoot = false; }, message: /^containers\[0\] "kratos" securityContext\.runAsNonRoot must be true/ },
        { title: "an unconfined seccomp profile", resource: KRATOS, change: (p) => { kratosContainer(p).securityContext.seccompProfile.type = "Unconfined"; }, message: /seccompProfile\.type must be RuntimeDefault or Localhost .*got Unconfined/ },
        { title: "a host port", resource: FRONTEND, change: (p) => { frontendContainer(p).ports[0].hostPort = 8080; }, message: /uses hostPort 8080/ },
        { title: "an unmasked /proc", resource: FRONTEND, change: (p) => { frontendContainer(p).securityContext.procMount = "Unmasked"; }, message: /procMount must be Default/ },
        { title: "an unsafe sysctl", resource: FRONTEND, change: (p) => { p.spec.template.spec.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]; }, message: /sysctls sets "kernel\.msgmax"/ },
        { title: "a custom SELinux user", resource: FRONTEND, change: (p) => { frontendContainer(p).securityContext.seLinuxOptions = { user: "system_u" }; }, message: /seLinuxOptions\.user must not be set/ },
    ],
    "containers-resources": [
        { title: "no cpu request", resource: FRONTEND, change: (p) => { delete frontendContainer(p).resources.requests.cpu; }, message: /^containers\[0\] "frontend" has no resources\.requests\.cpu\.$/ },
        { title: "no limits on an init container", resource: KRATOS, change: (p) => { delete p.spec.template.spec.initContainers[0].resources.limits; }, message: /^initContainers\[0\] "migrate" has no resources\.limits\.cpu or memory\.$/ },
        { title: "no resources on the Job's container", resource: JOB, change: (p) => { delete p.spec.template.spec.containers[0].resources; }, message: /^containers\[0\] "create-employee" has no resources\.requests\.cpu or memory/ },
    ],
    "containers-pinned-images": [
        { title: "no tag", resource: KRATOS, change: (p) => { kratosContainer(p).image = "oryd/kratos"; }, message: /^containers\[0\] "kratos" image "oryd\/kratos" has no tag \(implicitly latest\)/ },
        { title: "the latest tag", resource: FRONTEND, change: (p) => { frontendContainer(p).image = "registry.dcm.example.com/backoffice/frontend:latest"; }, message: /uses the tag "latest"/ },
        { title: "a registry port is not a tag", resource: FRONTEND, change: (p) => { frontendContainer(p).image = "registry.dcm.example.com:5000/backoffice/frontend"; }, message: /image "registry\.dcm\.example\.com:5000\/backoffice\/frontend" has no tag/ },
        { title: "an init container without tag", resource: KRATOS, change: (p) => { p.spec.template.spec.initContainers[0].image = "oryd/kratos"; }, message: /^initContainers\[0\] "migrate" image "oryd\/kratos" has no tag/ },
        { title: "a malformed digest", resource: FRONTEND, change: (p) => { frontendContainer(p).image = "frontend:1.14.2@sha256:abc"; }, message: /has a malformed digest/ },
        { title: "a tag without its digest", resource: FRONTEND, change: (p) => { frontendContainer(p).image = "registry.dcm.example.com/backoffice/frontend:1.14.2"; }, message: /^containers\[0\] "frontend" image "registry\.dcm\.example\.com\/backoffice\/frontend:1\.14\.2" has no digest: .*name:tag@sha256:/ },
        { title: "a digest without the tag it was taken from", resource: FRONTEND, change: (p) => { frontendContainer(p).image = `registry.dcm.example.com/backoffice/frontend@sha256:${"a".repeat(64)}`; }, message: /has no tag \(implicitly latest\)/ },
    ],
    "containers-real-digests": [
        { title: "the all-zero placeholder digest", resource: KRATOS, change: (p) => { kratosContainer(p).image = `oryd/kratos:v1.3.1@sha256:${"0".repeat(64)}`; }, message: /^containers\[0\] "kratos" image "oryd\/kratos:v1\.3\.1@sha256:0{64}" has a placeholder digest that no registry serves: .*ErrImagePull/ },
        { title: "the placeholder on an init container", resource: KRATOS, change: (p) => { p.spec.template.spec.initContainers[0].image = `oryd/kratos:v1.3.1@sha256:${"0".repeat(64)}`; }, message: /^initContainers\[0\] "migrate" .*placeholder digest/ },
    ],
    "secrets-configmaps": [
        { title: "a PEM private key", resource: "jwt-jwks", change: (p) => { p.data["signing.pem"] = PRIVATE_KEY_PEM; }, message: /^data\["signing\.pem"\] holds a PEM private key: move it to a Secret/ },
        { title: "a private JWK in the JWKS", resource: "jwt-jwks", change: (p) => { const doc = JSON.parse(p.data["jwks.json"]); doc.keys[0].d = "c2VjcmV0LXNjYWxhcg"; p.data["jwks.json"] = JSON.stringify(doc); }, message: /^data\["jwks\.json"\] at keys\[0\] holds a private JWK/ },
        { title: "Kratos cookie secrets in its config", resource: "kratos-config", change: (p) => { p.data["kratos.yml"] = p.data["kratos.yml"].replace("secrets: {}", "secrets:\n  cookie:\n    - Zx8rT2pQ9vLw3mNb"); }, message: /^data\["kratos\.yml"\] at secrets\.cookie\[0\] holds a literal value in a secrets section/ },
        { title: "a DSN with a password", resource: "kratos-config", change: (p) => { p.data["kratos.yml"] += "dsn: postgres://kratos:Pa55word@db:5432/kratos\n"; }, message: /at dsn holds a URL with a password in it/ },
        { title: "a value under a password key", resource: "jwt-jwks", change: (p) => { p.data["db-password"] = "Tr0ub4dor&3"; }, message: /^data\["db-password"\] holds a literal value under the secret-sounding name "db-password"/ },
        { title: "a private key in binaryData", resource: "jwt-jwks", change: (p) => { p.binaryData = { "key.der": Buffer.from(PRIVATE_KEY_PEM).toString("base64") }; }, message: /^binaryData\["key\.der"\] holds a PEM private key/ },
    ],
    "secrets-annotations": [
        { title: "a JWT in an annotation", resource: "api", change: (p) => { p.metadata.annotations["example.com/debug"] = "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkY20tZGVtbyJ9.c2lnbmF0dXJlLXZhbHVl"; }, message: /^metadata\.annotations\["example\.com\/debug"\] holds a JWT/ },
        { title: "a token under a token-named annotation", resource: FRONTEND, change: (p) => { p.metadata.annotations = { "dcm.example.com/api-token": "Q2hlY2tUb2tlbjEyMw9x" }; }, message: /^metadata\.annotations\["dcm\.example\.com\/api-token"\] holds a literal value under the secret-sounding name "api-token"/ },
        { title: "a password in a pod template annotation", resource: KRATOS, change: (p) => { p.spec.template.metadata.annotations = { "checksum/config": "x", "example.com/config": "{\"password\":\"Xk2#pq9Lm\"}" }; }, message: /^pod template annotations\["example\.com\/config"\] at password holds a literal value/ },
    ],
    "secrets-env-literals": [
        { title: "a literal password env", resource: KRATOS, change: (p) => { kratosContainer(p).env.push({ name: "DB_PASSWORD", value: "Tr0ub4dor&3" }); }, message: /^containers\[0\] "kratos" env DB_PASSWORD holds a literal value under the secret-sounding name "DB_PASSWORD": use valueFrom\.secretKeyRef/ },
        { title: "a literal Kratos cookie secret", resource: KRATOS, change: (p) => { kratosContainer(p).env[1] = { name: "SECRETS_COOKIE", value: "Zx8rT2pQ9vLw3mNbQ" }; }, message: /env SECRETS_COOKIE holds a literal value/ },
        { title: "a DSN with a password", resource: KRATOS, change: (p) => { kratosContainer(p).env[0] = { name: "DSN", value: "postgres://kratos:Pa55word@db:5432/kratos" }; }, message: /env DSN holds a URL with a password in it/ },
        { title: "a token shape under a harmless name", resource: JOB, change: (p) => { p.spec.template.spec.containers[0].env.push({ name: "NOTES", value: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" }); }, message: /env NOTES holds a GitHub token/ },
    ],
    "keys-signing-key-strength": [
        { title: "curve P-224", resource: "jwt-signing-key-a-keypair", change: (p) => { p.ecdsaCurve = "P224"; }, message: /^ECDSA key on curve P224 is too weak/ },
        { title: "the provider's default curve", resource: "jwt-signing-key-a-keypair", change: (p) => { delete p.ecdsaCurve; }, message: /^ECDSA key on curve P224 is too weak/ },
        { title: "RSA 2048", resource: "jwt-signing-key-a-keypair", change: (p) => { p.algorithm = "RSA"; p.rsaBits = 2048; delete p.ecdsaCurve; }, message: /^RSA key of 2048 bits is too weak: use at least 3072 bits/ },
        { title: "RSA at the provider's default size", resource: "jwt-signing-key-a-keypair", change: (p) => { p.algorithm = "RSA"; delete p.ecdsaCurve; }, message: /^RSA key of 2048 bits/ },
        { title: "Ed25519", resource: "jwt-signing-key-a-keypair", change: (p) => { p.algorithm = "ED25519"; }, message: /^Key algorithm "ED25519" is not accepted/ },
    ],
    "keys-password-length": [
        { title: "31 characters", resource: "key-keeper-identification", change: (p) => { p.length = 31; }, message: /^RandomPassword length is 31: it must be at least 32/ },
        { title: "another component's short password", resource: "kratos-secret-cookie", change: (p) => { p.length = 16; }, message: /^RandomPassword length is 16/ },
    ],
    "keys-protected": [
        { title: "an unprotected signing key", resource: "jwt-signing-key-a-keypair", change: (_p, r) => { r.protect = false; }, message: /^jwt-signing-key-a-keypair holds a JWT signing key but is not protected/ },
        { title: "an unprotected key-keeper password", resource: "key-keeper-identification", change: (_p, r) => { r.protect = false; }, message: /^key-keeper-identification holds a key-keeper password but is not protected/ },
        { title: "the signer Secret unprotected", resource: "jwt-signer", change: (_p, r) => { r.protect = false; }, message: /^jwt-signer holds the Secret jwt-signing-key-demo-integrate but is not protected/ },
        { title: "the key-keeper Secret unprotected", resource: "key-keeper-users", change: (_p, r) => { r.protect = false; }, message: /holds the Secret key-keeper-users but is not protected/ },
    ],
    "keys-protected-sources": [
        { title: "an unprotected password feeding key-keeper-users", resource: "key-keeper-users", change: (_p, r) => { r.dependencies!.push(urnOf("random:index/randomPassword:RandomPassword", "kratos-secret-cookie", STACK, ["dcm:integration:Kratos"])); }, message: /^kratos-secret-cookie feeds the Secret key-keeper-users but is not protected/, at: "kratos-secret-cookie" },
        { title: "an unprotected key feeding jwt-signing-key through a property", resource: "jwt-signing-key-a-keypair", change: (_p, r) => { r.protect = false; }, message: /^jwt-signing-key-a-keypair feeds the Secret jwt-signing-key-demo-integrate but is not protected/ },
    ],
    "namespace-labels": [
        { title: "no alias label", resource: "bank", change: (p) => { delete p.metadata.labels["dcm/alias"]; }, message: /^Namespace "bank-demo-integrate" lacks the label dcm\/alias=demo/ },
        { title: "another bank's alias", resource: "bank", change: (p) => { p.metadata.labels["dcm/alias"] = "dnipro"; }, message: /has dcm\/alias=dnipro, expected demo/ },
        { title: "a weaker Pod Security profile", resource: "bank", change: (p) => { p.metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline"; }, message: /has pod-security\.kubernetes\.io\/enforce=baseline, expected restricted/ },
        { title: "no environment label", resource: "bank", change: (p) => { p.metadata.labels["dcm/environment"] = ""; }, message: /lacks the label dcm\/environment/ },
    ],
    "namespace-default-deny": [
        { title: "a policy selecting some pods only", resource: "bank-default-deny", change: (p) => { p.spec.podSelector = { matchLabels: { app: "x" } }; }, message: /^Namespace "bank-demo-integrate" has no default-deny NetworkPolicy/, at: "bank" },
        { title: "ingress only", resource: "bank-default-deny", change: (p) => { p.spec.policyTypes = ["Ingress"]; }, message: /has no default-deny NetworkPolicy/, at: "bank" },
        { title: "a rule admitting traffic", resource: "bank-default-deny", change: (p) => { p.spec.ingress = [{}]; }, message: /has no default-deny NetworkPolicy/, at: "bank" },
        { title: "the policy in another namespace", resource: "bank-default-deny", change: (p) => { p.metadata.namespace = "default"; }, message: /has no default-deny NetworkPolicy/, at: "bank" },
    ],
    "outputs-secrets": [
        { title: "the private key output made plain", resource: "dcm-integration-demo", change: (_p, r) => { r.markedProps!.signingPrivateKeyPem = PRIVATE_KEY_PEM; }, message: /^Stack output signingPrivateKeyPem holds a PEM private key but is not a secret: wrap it in pulumi\.secret\(\)/ },
        { title: "the passwords map made plain", resource: "dcm-integration-demo", change: (_p, r) => { r.markedProps!.keyKeeperPasswords = { identification: PASSWORD, processing: PASSWORD }; }, message: /^Stack output keyKeeperPasswords\.identification holds a value under a secret-sounding name but is not a secret/ },
        { title: "a new token output", resource: "dcm-integration-demo", change: (_p, r) => { r.markedProps!.adminToken = "Zk39LmQp2XvB8nRt"; }, message: /^Stack output adminToken holds a value under a secret-sounding name/ },
        { title: "a private JWK output", resource: "dcm-integration-demo", change: (_p, r) => { r.markedProps!.publicJwk = { ...(r.markedProps!.publicJwk as object), d: "c2VjcmV0" }; }, message: /^Stack output publicJwk holds a private JWK/ },
    ],
    "availability-frontend-replicas": [
        { title: "one replica", resource: FRONTEND, change: (p) => { p.spec.replicas = 1; }, message: /^The frontend runs 1 replica\(s\)/ },
        { title: "replicas left to the default", resource: FRONTEND, change: (p) => { delete p.spec.replicas; }, message: /^The frontend runs 1 replica\(s\)/ },
    ],
    "availability-frontend-pdb": [
        { title: "the PDB selecting other pods", resource: "frontend-pdb", change: (p) => { p.spec.selector.matchLabels = { "app.kubernetes.io/name": "other" }; }, message: /^The frontend "frontend" has no PodDisruptionBudget selecting its pods/, at: FRONTEND },
    ],
    "availability-kratos-pdb": [
        { title: "the PDB in another namespace", resource: "kratos-pdb", change: (p) => { p.metadata.namespace = "other"; }, message: /^Kratos "kratos" runs 2 replicas but no PodDisruptionBudget selects its pods/, at: KRATOS },
    ],
    "network-rules-bounded": [
        { title: "an egress rule without destinations", resource: "first-employee-bootstrap-egress", change: (p) => { delete p.spec.egress[1].to; }, message: /^spec\.egress\[1\] has no 'to': it admits every destination; name the pods or addresses\.$/ },
        { title: "an egress rule to the internet", resource: "first-employee-bootstrap-egress", change: (p) => { p.spec.egress[1].to[0].ipBlock.cidr = "0.0.0.0/0"; }, message: /^spec\.egress\[1\]\.to\[0\]\.ipBlock 0\.0\.0\.0\/0 is wider than a \/24/ },
        { title: "a /16 block", resource: "first-employee-bootstrap-egress", change: (p) => { p.spec.egress[1].to[0].ipBlock.cidr = "10.96.0.0/16"; }, message: /10\.96\.0\.0\/16 is wider than a \/24/ },
        { title: "an IPv6 block of everything", resource: "first-employee-bootstrap-egress", change: (p) => { p.spec.egress[1].to[0].ipBlock.cidr = "::/0"; }, message: /::\/0 is wider than a \/120/ },
        { title: "an ingress rule without sources", resource: "kratos-admin-from-bootstrap", change: (p) => { delete p.spec.ingress[0].from; }, message: /^spec\.ingress\[0\] has no 'from': it admits every source/ },
    ],
    "network-kratos-admin-client": [
        { title: "the admin port admitted from the whole namespace", resource: "kratos-admin-from-bootstrap", change: (p) => { p.spec.ingress[0].from = [{ podSelector: {} }]; }, message: /spec\.ingress\[0\]\.from\[0\] admits the Kratos admin port but does not require the label dcm\/kratos-admin-client=first-employee-bootstrap/ },
        { title: "the admin port admitted from other namespaces", resource: "kratos-admin-from-bootstrap", change: (p) => { p.spec.ingress[0].from[0].namespaceSelector = {}; }, message: /selects namespaces/ },
        { title: "a rule with no ports", resource: "kratos-admin-from-bootstrap", change: (p) => { delete p.spec.ingress[0].ports; p.spec.ingress[0].from = [{ podSelector: { matchLabels: { app: "x" } } }]; }, message: /admits the Kratos admin port but does not require the label/ },
        { title: "the label on another workload", resource: FRONTEND, change: (p) => { p.spec.template.metadata.labels["dcm/kratos-admin-client"] = "first-employee-bootstrap"; }, message: /^frontend \(Deployment\) carries dcm\/kratos-admin-client on its pods: only the first-employee Job may reach the Kratos admin API\.$/ },
    ],
    "keys-signer-secret-access": [
        { title: "the key in the bank's namespace", resource: "jwt-signer", change: (p) => { p.metadata.namespace = "bank-demo-integrate"; }, message: /^Secret "jwt-signing-key-demo-integrate" holds DCM's signing key in the bank's namespace "bank-demo-integrate"/ },
        { title: "list granted on every Secret", resource: "jwt-signer-reader", change: (p) => { p.rules = [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"] }]; }, message: /^Role "jwt-signing-key-demo-integrate-reader" can read Secret "jwt-signing-key-demo-integrate" beyond "get" on that one name/ },
        // The "get only" half: the one name is kept, a second read verb is added (each alone breaks the rule).
        ...([["get", "list"], ["get", "watch"], ["*"], ["list"]] as const).map((verbs) => ({
            title: `verbs ${verbs.join(", ")} on the one name`, resource: "jwt-signer-reader",
            change: (p: any) => { p.rules = [{ apiGroups: [""], resources: ["secrets"], resourceNames: ["jwt-signing-key-demo-integrate"], verbs: [...verbs] }]; },
            message: /^Role "jwt-signing-key-demo-integrate-reader" can read Secret "jwt-signing-key-demo-integrate" beyond "get" on that one name/,
        })),
        { title: "no reader Role", resource: "jwt-signer-reader", change: (p) => { p.rules[0].resourceNames = ["other"]; }, message: /has no Role granting its signer read access/, at: "jwt-signer" },
    ],
    "objects-api-server-rules": [
        { title: "a container port name of 16 characters", resource: FRONTEND, change: (p) => { frontendContainer(p).ports[0].name = "sixteen-chars-ab"; }, message: /^containers\[0\] "frontend" ports\[0\]\.name "sixteen-chars-ab" must be no more than 15 characters\.$/ },
        { title: "an upper-case label value with a space", resource: "api", change: (p) => { p.metadata.labels.team = "Demo Bank"; }, message: /^metadata\.labels\["team"\] value "Demo Bank" is not a valid label value/ },
        { title: "an Ingress Exact path written as a regex", resource: "api", change: (p) => { Object.assign(p.spec.rules[0].http.paths[0], { path: "/api(/|$)(.*)", pathType: "Exact" }); }, message: /^spec\.rules\[0\]\.http\.paths\[0\]\.path "\/api\(\/\|\$\)\(\.\*\)" with pathType Exact may hold only letters/ },
        { title: "an Ingress Prefix path that is not absolute", resource: "api", change: (p) => { p.spec.rules[0].http.paths[0].path = "api"; }, message: /^spec\.rules\[0\]\.http\.paths\[0\]\.path "api" must be an absolute path\.$/ },
        { title: "a NetworkPolicy port out of range", resource: "kratos-admin-from-bootstrap", change: (p) => { p.spec.ingress[0].ports[0].port = 70000; }, message: /^spec\.ingress\[0\]\.ports\[0\]\.port 70000 must be between 1 and 65535\.$/ },
    ],
    "workloads-probes": [
        { title: "no readiness probe", resource: "jwks-server", change: (p) => { delete p.spec.template.spec.containers[0].readinessProbe; }, message: /^containers\[0\] "nginx" has no readinessProbe\.$/ },
    ],
    "workloads-service-account-token": [
        { title: "the default account's token mounted", resource: JOB, change: (p) => { delete p.spec.template.spec.automountServiceAccountToken; }, message: /^automountServiceAccountToken is not false/ },
        { title: "the token mounted explicitly", resource: FRONTEND, change: (p) => { p.spec.template.spec.automountServiceAccountToken = true; }, message: /token of the default service account/ },
    ],
};

describe("the compliant stack", () => {
    it("passes every policy, advisory ones included", () => {
        assert.deepEqual(check(compliantStack()), [], "the fixture must be compliant");
    });
});

for (const policy of policies) {
    describe(policy.name, () => {
        const cases = CASES[policy.name] ?? [];
        // A guard on this file's data, not a test of the policy: a policy added without a case would pass unseen.
        it("test data: has at least one failing case", () => assert.ok(cases.length > 0, `no case for ${policy.name}`));
        for (const c of cases) {
            it(`fails on ${c.title}`, () => {
                const changed = withChange(c.resource, c.change);
                const at = named(changed, c.at ?? c.resource).urn;
                const violations = check(changed);
                const mine = violations.filter((v) => v.policy === policy.name);
                assert.ok(mine.some((v) => c.message.test(v.message)), `expected ${c.message} from ${policy.name}, got:\n${show(violations)}`);
                const level = policy.enforcementLevel === "advisory" ? "advisory" : "mandatory";
                assert.ok(mine.every((v) => v.severity === level));
                assert.ok(mine.some((v) => v.urn === at && c.message.test(v.message)), `violation not reported on ${at}: ${show(mine)}`);
                for (const v of violations) assert.ok(!v.message.includes(CANARY) && !v.message.includes("PRIVATE KEY-----\n"), `a message leaks a secret: ${v.message}`);
            });
        }
    });
}
