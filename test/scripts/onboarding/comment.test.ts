/** The ticket's check table says what the terminal table says: a warning and a check not run are not a plain PASS or SKIP. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NOT_RUN } from "../../../scripts/lib/checks/types";
import { plainText } from "../../../scripts/lib/jira/adf";
import { resultComment } from "../../../scripts/lib/onboarding/comment";

describe("the result comment's check table", () => {
    it("shows WARN with the warning, NOT RUN with its reason, and FAIL, as the terminal table does", () => {
        const comment = plainText(resultComment({
            stack: "lviv", file: "created", outputs: {}, changes: { create: 3 },
            checks: {
                stack: "lviv", passed: false, ms: 900, results: [
                    { id: "https-key-keeper", step: "1,6,7", title: "key keeper certificate", status: "pass", ms: 40, warning: "certificate expires in 9 days (fewer than 14)" },
                    { id: "reach-api", step: "5", title: "api host reachable", status: "fail", ms: 300, reason: "connection refused" },
                    { id: "jwks", step: "2", title: "JWKS", status: "skip", ms: 0, reason: `${NOT_RUN}api-lviv-integrate.dcm.example.com:443 is unreachable` },
                ],
            },
        }));
        assert.match(comment, /WARN.*certificate expires in 9 days/s);
        assert.match(comment, /FAIL.*connection refused/s);
        assert.match(comment, /NOT RUN.*unreachable/s);
        assert.doesNotMatch(comment, /\bSKIP\b/);
    });
});
